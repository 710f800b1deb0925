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
