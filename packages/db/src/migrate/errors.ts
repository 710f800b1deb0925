/** Why a migration run refused or stopped. */
export type MigrationErrorCode =
  /** The migrations folder is missing, a migration has no migration.sql, or the lock file names another provider. */
  | 'MIGRATIONS_DIR_INVALID'
  /** An applied migration's file was edited after it was applied. */
  | 'CHECKSUM_MISMATCH'
  /** An applied migration's folder is gone from disk. */
  | 'MISSING_FROM_DISK'
  /** A migration failed earlier (or its runner died) and was not resolved yet. */
  | 'FAILED_MIGRATION'
  /** A migration's SQL failed in this run. */
  | 'APPLY_FAILED'
  /** Another runner held the migration lock for longer than the lock timeout. */
  | 'LOCK_TIMEOUT';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    /** The migration the error is about, where there is one. */
    readonly migrationName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
