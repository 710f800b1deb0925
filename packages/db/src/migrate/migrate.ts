import { randomUUID } from 'node:crypto';
import type { Connection } from 'mariadb';
import { openConnection } from '../connection.ts';
import { parseMysqlUrl, quoteIdentifier } from '../url.ts';
import { checksumMatches } from './checksum.ts';
import { MigrationError } from './errors.ts';
import {
  CREATE_HISTORY_TABLE_SQL,
  isApplied,
  isFailed,
  readHistory,
  recordFailed,
  recordFinished,
  recordRolledBack,
  recordStarted,
  type MigrationRecord,
} from './history.ts';
import { readMigrations, type MigrationFile } from './read-migrations.ts';

/** Where the runner reports progress; a pino logger fits, and so does the console wrapper of the CLI. */
export interface MigrateLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** `mysql://user:password@host:port/database`; the database is created when missing. */
  url: string;
  /** The folder holding `<timestamp>_<name>/migration.sql` (Prisma's layout), e.g. `prisma/migrations`. */
  migrationsDir: string;
  /** Default: silent. */
  logger?: MigrateLogger;
  /** How long to wait for another runner's lock before giving up, in seconds. Default 60. */
  lockTimeoutSeconds?: number;
}

export interface MigrateResult {
  /** Names of the migrations this run applied, in order; empty when the database was up to date. */
  applied: string[];
}

/**
 * The MySQL named lock that keeps two runners (replicas starting together, parallel CI jobs) from migrating at
 * once. GET_LOCK is held by the session, so the whole run uses one connection.
 */
export const MIGRATION_LOCK_NAME = 'firefly_migrate';
const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;

const silentLogger: MigrateLogger = { info: () => {}, warn: () => {} };

/**
 * Applies pending migrations the way `prisma migrate deploy` would, without Prisma's native schema engine, and
 * records them in Prisma's `_prisma_migrations` table. Stricter than deploy: it refuses to run while an applied
 * migration was edited or deleted, or an earlier one failed, naming the migration in the error.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger;
  const database = parseMysqlUrl(options.url).database;
  if (database === '') throw new MigrationError('MIGRATIONS_DIR_INVALID', 'migrate: the database URL must name a database');
  const migrations = await readMigrations(options.migrationsDir);

  const conn = await openConnection(options.url, { serverOnly: true, multipleStatements: true });
  try {
    await createDatabaseIfMissing(conn, database, logger);
    await conn.query(`USE ${quoteIdentifier(database)}`);
    await acquireLock(conn, options.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS);
    try {
      return await applyPending(conn, migrations, logger);
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK_NAME]);
    }
  } finally {
    await conn.end();
  }
}

/** Options of {@link markMigrationRolledBack}. */
export interface MarkRolledBackOptions {
  url: string;
  migrationName: string;
}

/**
 * After fixing the database by hand (or the failed migration's SQL, if nothing of it was applied), marks a failed
 * migration as rolled back so the next run applies it again: the equivalent of
 * `prisma migrate resolve --rolled-back <name>`. Returns false when no failed record of that name exists.
 */
export async function markMigrationRolledBack(options: MarkRolledBackOptions): Promise<boolean> {
  const conn = await openConnection(options.url);
  try {
    return (await recordRolledBack(conn, options.migrationName)) > 0;
  } finally {
    await conn.end();
  }
}

/**
 * Looks before creating: a production user is often granted rights on its own database only, and MySQL checks the
 * global CREATE privilege even for `CREATE DATABASE IF NOT EXISTS` on a database that exists.
 */
async function createDatabaseIfMissing(conn: Connection, database: string, logger: MigrateLogger): Promise<void> {
  const rows = await conn.query<unknown[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  if (rows.length > 0) return;
  // IF NOT EXISTS still matters: another runner may create it between our look and our create.
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  logger.info({ database }, 'created database');
}

async function acquireLock(conn: Connection, timeoutSeconds: number): Promise<void> {
  const rows = await conn.query<{ locked: number | null }[]>('SELECT GET_LOCK(?, ?) AS locked', [
    MIGRATION_LOCK_NAME,
    timeoutSeconds,
  ]);
  if (Number(rows[0]?.locked) !== 1) {
    throw new MigrationError(
      'LOCK_TIMEOUT',
      `another migration run held the lock "${MIGRATION_LOCK_NAME}" for more than ${timeoutSeconds}s; try again`,
    );
  }
}

async function applyPending(conn: Connection, migrations: MigrationFile[], logger: MigrateLogger): Promise<MigrateResult> {
  await conn.query(CREATE_HISTORY_TABLE_SQL);
  const history = await readHistory(conn);
  assertHistoryConsistent(history, migrations);

  const appliedNames = new Set(history.filter(isApplied).map((record) => record.migrationName));
  const pending = migrations.filter((migration) => !appliedNames.has(migration.name));
  if (pending.length === 0) {
    logger.info({ migrations: migrations.length }, 'database schema is up to date');
    return { applied: [] };
  }

  const applied: string[] = [];
  for (const migration of pending) {
    await applyOne(conn, migration);
    applied.push(migration.name);
    logger.info({ migration: migration.name }, 'applied migration');
  }
  return { applied };
}

async function applyOne(conn: Connection, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await recordStarted(conn, id, migration.name, migration.checksum);
  try {
    if (hasStatements(migration.script)) await conn.query(migration.script);
  } catch (error) {
    const detail = describeSqlError(error);
    await recordFailed(conn, id, detail);
    // MySQL commits each DDL statement as it goes, so the statements before the failing one stay applied.
    throw new MigrationError(
      'APPLY_FAILED',
      `migration ${migration.name} failed: ${detail}. Statements before the failing one may have been applied; ` +
        `fix the database and the migration, then mark it rolled back (npm run db:migrate -- --rolled-back ${migration.name}).`,
      migration.name,
      { cause: error },
    );
  }
  await recordFinished(conn, id);
}

/**
 * The checks that make the runner refuse: history and files must tell the same story before anything new is
 * applied on top of them.
 */
function assertHistoryConsistent(history: MigrationRecord[], migrations: MigrationFile[]): void {
  const failed = history.find(isFailed);
  if (failed !== undefined) {
    throw new MigrationError(
      'FAILED_MIGRATION',
      `migration ${failed.migrationName} failed earlier${failed.logs ? ` (${failed.logs})` : ''} and is not resolved. ` +
        `Fix the database and the migration, then mark it rolled back (npm run db:migrate -- --rolled-back ${failed.migrationName}).`,
      failed.migrationName,
    );
  }
  const byName = new Map(migrations.map((migration) => [migration.name, migration]));
  for (const record of history.filter(isApplied)) {
    const file = byName.get(record.migrationName);
    if (file === undefined) {
      throw new MigrationError(
        'MISSING_FROM_DISK',
        `migration ${record.migrationName} was applied to this database but is missing from the migrations folder; ` +
          'restore it (applied migrations are never deleted)',
        record.migrationName,
      );
    }
    if (!checksumMatches(file.bytes, record.checksum)) {
      throw new MigrationError(
        'CHECKSUM_MISMATCH',
        `migration ${record.migrationName} was modified after it was applied (checksum ${record.checksum} recorded, ` +
          `${file.checksum} on disk); revert the edit and put the change in a new migration`,
        record.migrationName,
      );
    }
  }
}

/** A script of only comments and whitespace would make the server answer "Query was empty". */
function hasStatements(script: string): boolean {
  const withoutComments = script
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)(--|#)[^\n]*/g, '$1');
  return withoutComments.replace(/[\s;]/g, '') !== '';
}

function describeSqlError(error: unknown): string {
  if (error instanceof Error) {
    const sqlError = error as Error & { code?: string | null; sqlMessage?: string | null };
    if (sqlError.sqlMessage) return `${sqlError.code ?? 'SQL error'}: ${sqlError.sqlMessage}`;
    return error.message;
  }
  return String(error);
}
