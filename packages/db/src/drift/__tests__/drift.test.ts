import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection } from '../../connection.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../testing.ts';
import { detectDrift, formatDifferences } from '../index.ts';

describe('drift between the migrations and the Prisma schema', () => {
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await createScratchDatabase('db_drift');
  });

  afterAll(async () => {
    await scratch?.drop();
  });

  it('finds none once every migration is applied', async () => {
    const differences = await detectDrift({ url: scratch.url });
    // The message lists every difference, so a failing build says what to add to a migration or the schema.
    expect(differences, `the migrations do not produce the Prisma schema:\n${formatDifferences(differences)}`).toEqual([]);
  });

  it('reports a column, a nullability and an index changed behind the schema’s back', async () => {
    const conn = await openConnection(scratch.url);
    try {
      await conn.query('ALTER TABLE `User` ADD COLUMN `nickname` VARCHAR(191) NULL');
      await conn.query('ALTER TABLE `User` MODIFY `displayName` VARCHAR(191) NULL');
      await conn.query('DROP INDEX `User_tenantId_createdAt_idx` ON `User`');
    } finally {
      await conn.end();
    }
    const differences = await detectDrift({ url: scratch.url });
    expect(differences.map((d) => [d.kind, d.table, d.object])).toEqual([
      ['column-nullability', 'User', 'displayName'],
      ['column-extra', 'User', 'nickname'],
      ['index-missing', 'User', 'User_tenantId_createdAt_idx'],
    ]);
  });
});
