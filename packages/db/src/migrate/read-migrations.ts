import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeChecksum } from './checksum.ts';
import { MigrationError } from './errors.ts';

/** One `prisma/migrations/<name>/migration.sql` as found on disk. */
export interface MigrationFile {
  name: string;
  /** The file's bytes: checksums are computed over these, not over decoded text. */
  bytes: Buffer;
  script: string;
  checksum: string;
}

const SCRIPT_FILE = 'migration.sql';
const LOCK_FILE = 'migration_lock.toml';

/**
 * Reads Prisma's migrations layout: one folder per migration holding `migration.sql`, applied in name order (the
 * `YYYYMMDDHHMMSS_` prefix makes name order time order), plus `migration_lock.toml` naming the provider.
 */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  if (!existsSync(migrationsDir)) {
    throw new MigrationError('MIGRATIONS_DIR_INVALID', `migrations folder ${migrationsDir} does not exist`);
  }
  await assertMysqlLock(migrationsDir);
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const path = join(migrationsDir, name, SCRIPT_FILE);
    if (!existsSync(path)) {
      throw new MigrationError('MIGRATIONS_DIR_INVALID', `migration ${name} has no ${SCRIPT_FILE} (${path})`, name);
    }
    const bytes = await readFile(path);
    migrations.push({ name, bytes, script: bytes.toString('utf8'), checksum: computeChecksum(bytes) });
  }
  return migrations;
}

async function assertMysqlLock(migrationsDir: string): Promise<void> {
  const path = join(migrationsDir, LOCK_FILE);
  if (!existsSync(path)) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(await readFile(path, 'utf8'))?.[1];
  if (provider !== undefined && provider !== 'mysql') {
    throw new MigrationError(
      'MIGRATIONS_DIR_INVALID',
      `${path} says provider = "${provider}"; these migrations were written for another database than MySQL`,
    );
  }
}
