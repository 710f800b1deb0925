// @firefly/db/migrate: our engine-free stand-in for `prisma migrate deploy` (docs/architecture.md,
// "Data ownership").
export { markMigrationRolledBack, migrate, MIGRATION_LOCK_NAME } from './migrate.ts';
export type { MarkRolledBackOptions, MigrateLogger, MigrateOptions, MigrateResult } from './migrate.ts';
export { MigrationError } from './errors.ts';
export type { MigrationErrorCode } from './errors.ts';
export { checksumMatches, computeChecksum } from './checksum.ts';
export { readMigrations } from './read-migrations.ts';
export type { MigrationFile } from './read-migrations.ts';
export { HISTORY_TABLE } from './history.ts';
export type { MigrationRecord } from './history.ts';
export { MIGRATIONS_DIR, SCHEMA_DIR } from '../paths.ts';
