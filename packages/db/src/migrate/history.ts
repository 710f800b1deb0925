import type { Connection } from 'mariadb';

/**
 * Prisma's own history table, column for column as Prisma's MySQL connector creates it, so `prisma migrate
 * deploy` / `prisma migrate status` read the history we write (and the other way round).
 */
export const CREATE_HISTORY_TABLE_SQL = `CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
    \`id\`                      VARCHAR(36) PRIMARY KEY NOT NULL,
    \`checksum\`                VARCHAR(64) NOT NULL,
    \`finished_at\`             DATETIME(3),
    \`migration_name\`          VARCHAR(255) NOT NULL,
    \`logs\`                    TEXT,
    \`rolled_back_at\`          DATETIME(3),
    \`started_at\`              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    \`applied_steps_count\`     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

export const HISTORY_TABLE = '_prisma_migrations';

/** One row of `_prisma_migrations`. */
export interface MigrationRecord {
  id: string;
  checksum: string;
  finishedAt: Date | null;
  migrationName: string;
  logs: string | null;
  rolledBackAt: Date | null;
  startedAt: Date;
  appliedStepsCount: number;
}

/** A record counts as applied when it finished and was not rolled back since (Prisma's rule). */
export function isApplied(record: MigrationRecord): boolean {
  return record.finishedAt !== null && record.rolledBackAt === null;
}

/** Started and neither finished nor rolled back: the script failed, or its runner died half-way. */
export function isFailed(record: MigrationRecord): boolean {
  return record.finishedAt === null && record.rolledBackAt === null;
}

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

export async function readHistory(conn: Connection): Promise<MigrationRecord[]> {
  const rows = await conn.query<HistoryRow[]>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM \`_prisma_migrations\` ORDER BY started_at ASC, migration_name ASC`,
  );
  return rows.map((row) => ({
    id: row.id,
    checksum: row.checksum,
    finishedAt: row.finished_at,
    migrationName: row.migration_name,
    logs: row.logs,
    rolledBackAt: row.rolled_back_at,
    startedAt: row.started_at,
    appliedStepsCount: Number(row.applied_steps_count),
  }));
}

export async function recordStarted(conn: Connection, id: string, name: string, checksum: string): Promise<void> {
  await conn.query(
    'INSERT INTO `_prisma_migrations` (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, CURRENT_TIMESTAMP(3), 0)',
    [id, checksum, name],
  );
}

export async function recordFinished(conn: Connection, id: string): Promise<void> {
  await conn.query(
    'UPDATE `_prisma_migrations` SET finished_at = CURRENT_TIMESTAMP(3), applied_steps_count = applied_steps_count + 1 WHERE id = ?',
    [id],
  );
}

export async function recordFailed(conn: Connection, id: string, logs: string): Promise<void> {
  await conn.query('UPDATE `_prisma_migrations` SET logs = ? WHERE id = ?', [logs, id]);
}

/** Marks a failed migration as rolled back (what `prisma migrate resolve --rolled-back` does). */
export async function recordRolledBack(conn: Connection, name: string): Promise<number> {
  const result = await conn.query<{ affectedRows: number }>(
    'UPDATE `_prisma_migrations` SET rolled_back_at = CURRENT_TIMESTAMP(3) WHERE migration_name = ? AND finished_at IS NULL AND rolled_back_at IS NULL',
    [name],
  );
  return result.affectedRows;
}
