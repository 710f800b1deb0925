import { Prisma } from './generated/prisma/client.ts';

/**
 * Prisma's error codes that data-access code branches on. Prefer a unique constraint plus
 * {@link isUniqueConstraintError} over find-then-insert (a unique key decides a race; a read before the insert cannot).
 */
export const PrismaErrorCode = {
  /** A unique constraint was violated. */
  UNIQUE_CONSTRAINT: 'P2002',
  /** A foreign key constraint was violated. */
  FOREIGN_KEY_CONSTRAINT: 'P2003',
  /** The record an update/delete/…OrThrow needed does not exist (or is outside the tenant scope). */
  RECORD_NOT_FOUND: 'P2025',
} as const;

export type PrismaErrorCode = (typeof PrismaErrorCode)[keyof typeof PrismaErrorCode];

export function isPrismaError(error: unknown, code: PrismaErrorCode): error is Prisma.PrismaClientKnownRequestError {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}

export function isUniqueConstraintError(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return isPrismaError(error, PrismaErrorCode.UNIQUE_CONSTRAINT);
}

export function isRecordNotFoundError(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  return isPrismaError(error, PrismaErrorCode.RECORD_NOT_FOUND);
}

/** Prisma's codes for "could not reach or keep a connection to the database" (P1xxx) and pool exhaustion (P2024, P2037). */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/**
 * True when a query failed because MySQL could not be reached in time — refused, timed out, connection lost, no
 * pooled connection within the pool's acquire timeout — rather than because of the query. Such a request should
 * answer UPSTREAM_UNAVAILABLE (service `mysql`), not INTERNAL_SERVER_ERROR. The `mariadb` driver numbers its own
 * connection-level errors 45000–45099 (e.g. 45028 pool timeout, 45012 connect timeout); Prisma passes them on under
 * `meta.driverAdapterError`.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as { code?: unknown; errno?: unknown; meta?: { driverAdapterError?: unknown }; cause?: unknown };
    if (typeof candidate.code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(candidate.code) || candidate.code === 'ECONNREFUSED')) return true;
    for (const number of [candidate.code, candidate.errno]) {
      if (typeof number === 'number' && number >= 45_000 && number < 45_100) return true;
    }
    current = candidate.meta?.driverAdapterError ?? candidate.cause;
  }
  return false;
}
