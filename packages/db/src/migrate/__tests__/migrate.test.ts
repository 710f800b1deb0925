import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection } from '../../connection.ts';
import { MIGRATIONS_DIR } from '../../paths.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../testing.ts';
import { computeChecksum } from '../checksum.ts';
import { markMigrationRolledBack, migrate, MigrationError } from '../index.ts';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const conn = await openConnection(url);
  try {
    return await conn.query<T[]>(sql);
  } finally {
    await conn.end();
  }
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const history = (url: string) =>
  query<HistoryRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name');

async function expectMigrationError(run: Promise<unknown>, code: string, migrationName: string): Promise<MigrationError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  const migrationError = error as MigrationError;
  expect(migrationError.code).toBe(code);
  expect(migrationError.migrationName).toBe(migrationName);
  expect(migrationError.message).toContain(migrationName);
  return migrationError;
}

describe('migrate', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'firefly-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function emptyDatabase(): Promise<ScratchDatabase> {
    const scratch = await createScratchDatabase('db_migrate', { migrated: false });
    cleanups.push(() => scratch.drop());
    return scratch;
  }

  async function addMigration(name: string, sql: string): Promise<void> {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }

  it("applies the repository's migrations to an empty database and records them as Prisma does", async () => {
    const scratch = await emptyDatabase();
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const { applied } = await migrate({ url: scratch.url, migrationsDir: dir });
    expect(applied.length).toBeGreaterThan(0);
    expect(applied[0]).toMatch(/^\d{14}_init$/);

    const rows = await history(scratch.url);
    expect(rows.map((r) => r.migration_name)).toEqual(applied);
    for (const row of rows) {
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await query(scratch.url, "SELECT id, slug FROM Tenant WHERE id = 'default'")).toEqual([{ id: 'default', slug: 'default' }]);
  });

  it('creates the database when it does not exist', async () => {
    const scratch = await emptyDatabase();
    await scratch.drop();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    expect((await migrate({ url: scratch.url, migrationsDir: dir })).applied).toEqual(['20240101000000_a']);
    cleanups.push(() => scratch.drop());
  });

  it('applies nothing on a second run, and only new migrations later, in name order', async () => {
    const scratch = await emptyDatabase();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    expect((await migrate({ url: scratch.url, migrationsDir: dir })).applied).toEqual(['20240101000000_a']);
    expect((await migrate({ url: scratch.url, migrationsDir: dir })).applied).toEqual([]);

    await addMigration('20240103000000_c', 'ALTER TABLE b ADD COLUMN c INT;');
    await addMigration('20240102000000_b', 'CREATE TABLE b (id INT PRIMARY KEY);\nINSERT INTO b (id) VALUES (1);');
    expect((await migrate({ url: scratch.url, migrationsDir: dir })).applied).toEqual(['20240102000000_b', '20240103000000_c']);
    expect((await history(scratch.url)).map((r) => r.migration_name)).toEqual([
      '20240101000000_a',
      '20240102000000_b',
      '20240103000000_c',
    ]);
  });

  it('records the sha256 of the file bytes as the checksum', async () => {
    const scratch = await emptyDatabase();
    const sql = '-- CreateTable\r\nCREATE TABLE a (id INT PRIMARY KEY, note VARCHAR(10) DEFAULT \'é\');\r\n';
    await addMigration('20240101000000_a', sql);
    await migrate({ url: scratch.url, migrationsDir: dir });
    expect((await history(scratch.url))[0]?.checksum).toBe(computeChecksum(Buffer.from(sql)));
  });

  it('refuses to run when an applied migration was edited, naming it', async () => {
    const scratch = await emptyDatabase();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    await migrate({ url: scratch.url, migrationsDir: dir });

    await appendFile(join(dir, '20240101000000_a', 'migration.sql'), '\nALTER TABLE a ADD COLUMN x INT;');
    await addMigration('20240102000000_b', 'CREATE TABLE b (id INT PRIMARY KEY);');
    await expectMigrationError(migrate({ url: scratch.url, migrationsDir: dir }), 'CHECKSUM_MISMATCH', '20240101000000_a');
    // Nothing after the refusal ran.
    expect(await query(scratch.url, "SHOW TABLES LIKE 'b'")).toEqual([]);
  });

  it('refuses to run when an applied migration is missing from disk, naming it', async () => {
    const scratch = await emptyDatabase();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    await migrate({ url: scratch.url, migrationsDir: dir });
    await rm(join(dir, '20240101000000_a'), { recursive: true });
    await expectMigrationError(migrate({ url: scratch.url, migrationsDir: dir }), 'MISSING_FROM_DISK', '20240101000000_a');
  });

  it('records a failed migration and refuses every later run until it is marked rolled back', async () => {
    const scratch = await emptyDatabase();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    await addMigration('20240102000000_b', 'CREATE TABLE b (id INT PRIMARY KEY);\nCREATE TABLE a (id INT PRIMARY KEY);');
    await addMigration('20240103000000_c', 'CREATE TABLE c (id INT PRIMARY KEY);');

    const failure = await expectMigrationError(migrate({ url: scratch.url, migrationsDir: dir }), 'APPLY_FAILED', '20240102000000_b');
    expect(failure.message).toMatch(/already exists/);
    const rows = await history(scratch.url);
    expect(rows.map((r) => [r.migration_name, r.finished_at === null])).toEqual([
      ['20240101000000_a', false],
      ['20240102000000_b', true],
    ]);
    expect(rows[1]?.logs).toMatch(/already exists/);

    await expectMigrationError(migrate({ url: scratch.url, migrationsDir: dir }), 'FAILED_MIGRATION', '20240102000000_b');

    // The fix: undo what half-ran, correct the file, mark it rolled back; the next run applies it again.
    await query(scratch.url, 'DROP TABLE b');
    await addMigration('20240102000000_b', 'CREATE TABLE b (id INT PRIMARY KEY);');
    expect(await markMigrationRolledBack({ url: scratch.url, migrationName: '20240102000000_b' })).toBe(true);
    expect((await migrate({ url: scratch.url, migrationsDir: dir })).applied).toEqual(['20240102000000_b', '20240103000000_c']);
    // The rolled-back attempt stays in the history, as with Prisma; its edited file is not held against it.
    expect((await history(scratch.url)).map((r) => [r.migration_name, r.rolled_back_at !== null])).toEqual([
      ['20240101000000_a', false],
      ['20240102000000_b', true],
      ['20240102000000_b', false],
      ['20240103000000_c', false],
    ]);
  });

  it('applies each migration exactly once when two runs race', async () => {
    const scratch = await emptyDatabase();
    await scratch.drop(); // both runners also race to create the database
    cleanups.push(() => scratch.drop());
    for (let i = 1; i <= 5; i++) {
      await addMigration(`2024010${i}000000_m${i}`, `CREATE TABLE t${i} (id INT PRIMARY KEY);\nDO SLEEP(0.05);`);
    }
    const runs = await Promise.all([
      migrate({ url: scratch.url, migrationsDir: dir }),
      migrate({ url: scratch.url, migrationsDir: dir }),
    ]);
    const applied = runs.flatMap((run) => run.applied).sort();
    expect(applied).toEqual(['20240101000000_m1', '20240102000000_m2', '20240103000000_m3', '20240104000000_m4', '20240105000000_m5']);
    // One run did everything while holding the lock; the other found nothing left to do.
    expect(runs.map((run) => run.applied.length).sort()).toEqual([0, 5]);
    expect(await history(scratch.url)).toHaveLength(5);
  });

  it('gives up with LOCK_TIMEOUT while another runner holds the lock', async () => {
    const scratch = await emptyDatabase();
    await addMigration('20240101000000_a', 'CREATE TABLE a (id INT PRIMARY KEY);');
    const holder = await openConnection(scratch.url);
    cleanups.push(() => holder.end());
    await holder.query("SELECT GET_LOCK('firefly_migrate', 0)");
    const error = await migrate({ url: scratch.url, migrationsDir: dir, lockTimeoutSeconds: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe('LOCK_TIMEOUT');
    await holder.query("SELECT RELEASE_LOCK('firefly_migrate')");
  });

  it('refuses a folder whose lock file names another provider', async () => {
    const scratch = await emptyDatabase();
    await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    await expect(migrate({ url: scratch.url, migrationsDir: dir })).rejects.toThrow(/postgresql/);
  });
});
