// @firefly/db/testing: helpers for tests that need a real database. Not for production code.
import { randomBytes } from 'node:crypto';
import type { QueryEvent } from './client.ts';
import { openConnection } from './connection.ts';
import { migrate } from './migrate/migrate.ts';
import { MIGRATIONS_DIR } from './paths.ts';
import { quoteIdentifier, withDatabase } from './url.ts';

export { openConnection } from './connection.ts';
export type { OpenConnectionOptions } from './connection.ts';

/** Where scratch databases are created when no server URL is given. */
export const DEFAULT_TEST_SERVER_URL = 'mysql://root@127.0.0.1:3306';

/** Options of {@link createScratchDatabase}. */
export interface ScratchDatabaseOptions {
  /**
   * A URL of the server to create the database on; its database part, if any, is ignored. Default: the
   * `DATABASE_URL` the global test setup exported, else {@link DEFAULT_TEST_SERVER_URL}.
   */
  serverUrl?: string;
  /** Apply the repository's migrations (`prisma/migrations`) to it. Default true. */
  migrated?: boolean;
  /** Apply the migrations of this folder instead of the repository's. Implies `migrated`. */
  migrationsDir?: string;
}

export interface ScratchDatabase {
  /** `mysql://…/<name>`, ready for `createDb` or `migrate`. */
  url: string;
  name: string;
  /** Drops the database (DROP DATABASE IF EXISTS, so calling it again is harmless). */
  drop(): Promise<void>;
}

const MAX_DATABASE_NAME_LENGTH = 64;

/**
 * Creates a database with a random name (`<prefix>_<hex>`), migrated unless asked otherwise. Each test file gets
 * its own, so test files run in parallel without seeing each other's rows; drop it in `afterAll`.
 */
export async function createScratchDatabase(prefix: string, options: ScratchDatabaseOptions = {}): Promise<ScratchDatabase> {
  const serverUrl = withDatabase(options.serverUrl ?? process.env.DATABASE_URL ?? DEFAULT_TEST_SERVER_URL, '');
  const name = scratchDatabaseName(prefix);
  const url = withDatabase(serverUrl, name);

  const conn = await openConnection(serverUrl, { serverOnly: true });
  try {
    await conn.query(`CREATE DATABASE ${quoteIdentifier(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }

  const drop = (): Promise<void> => dropDatabase(serverUrl, name);
  if (options.migrated !== false || options.migrationsDir !== undefined) {
    try {
      await migrate({ url, migrationsDir: options.migrationsDir ?? MIGRATIONS_DIR });
    } catch (error) {
      await drop();
      throw error;
    }
  }
  return { url, name, drop };
}

/** Drops a database if it exists. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const conn = await openConnection(serverUrl, { serverOnly: true });
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`);
  } finally {
    await conn.end();
  }
}

/**
 * Drops scratch databases that runs which died before their teardown left behind: names of the form
 * `<prefix>_<16 hex chars>` whose last migration started more than `olderThanHours` ago (default 24). A database
 * without migration history cannot be dated and is left alone, as is everything named otherwise. Returns the
 * names dropped.
 */
export async function dropStaleScratchDatabases(serverUrl: string, olderThanHours = 24): Promise<string[]> {
  const conn = await openConnection(serverUrl, { serverOnly: true });
  try {
    const candidates = await conn.query<{ name: string }[]>(
      `SELECT TABLE_SCHEMA AS name FROM information_schema.TABLES
        WHERE TABLE_NAME = '_prisma_migrations' AND TABLE_SCHEMA REGEXP '_[0-9a-f]{16}$'`,
    );
    const dropped: string[] = [];
    for (const { name } of candidates) {
      if (!SCRATCH_NAME.test(name)) continue;
      const [row] = await conn.query<{ stale: number | null }[]>(
        `SELECT MAX(started_at) < UTC_TIMESTAMP(3) - INTERVAL ? HOUR AS stale FROM ${quoteIdentifier(name)}._prisma_migrations`,
        [olderThanHours],
      );
      if (Number(row?.stale) !== 1) continue;
      await conn.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`);
      dropped.push(name);
    }
    return dropped;
  } finally {
    await conn.end();
  }
}

const SCRATCH_NAME = /^[a-z0-9_]+_[0-9a-f]{16}$/;

/** `<prefix>_<16 hex chars>`, lower-case, only `[a-z0-9_]`, at most 64 characters (MySQL's limit). */
export function scratchDatabaseName(prefix: string): string {
  const suffix = randomBytes(8).toString('hex');
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${clean.slice(0, MAX_DATABASE_NAME_LENGTH - suffix.length - 1)}_${suffix}`;
}

/** Collects the SQL a client sends; pass `recorder.onQuery` to `createDb({ onQuery })`. */
export interface QueryRecorder {
  onQuery(event: QueryEvent): void;
  /** Every statement since the last reset, in order. */
  readonly queries: readonly string[];
  /** Statements sent to the server since the last reset (see {@link isServerStatement}). */
  count(): number;
  reset(): void;
}

/**
 * Prisma also reports markers that are not statements of their own (`-- Implicit "COMMIT" query via underlying
 * driver`); counting those would make N+1 assertions depend on transaction plumbing.
 */
export function isServerStatement(sql: string): boolean {
  return !sql.trimStart().startsWith('--');
}

export function createQueryRecorder(): QueryRecorder {
  let queries: string[] = [];
  return {
    onQuery: (event) => {
      queries.push(event.query);
    },
    get queries() {
      return queries;
    },
    count: () => queries.filter(isServerStatement).length,
    reset: () => {
      queries = [];
    },
  };
}
