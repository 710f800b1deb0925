// @firefly/db/drift: does the migrated database match the Prisma schema? (docs/architecture.md,
// "Data ownership"). A development and CI tool: it needs @prisma/get-dmmf, a devDependency.
import { openConnection } from '../connection.ts';
import { SCHEMA_DIR } from '../paths.ts';
import { compareShapes, type DriftDifference } from './compare.ts';
import { readDatabaseShape } from './read-database.ts';
import { readPrismaShape, readSchemaFiles } from './read-prisma.ts';

export { compareShapes } from './compare.ts';
export type { DriftDifference, DriftKind } from './compare.ts';
export { normalizeLiveDefault, readDatabaseShape } from './read-database.ts';
export type { ServerFlavor } from './read-database.ts';
export { readPrismaShape, readSchemaFiles } from './read-prisma.ts';
export type { SchemaFile } from './read-prisma.ts';
export type { ColumnShape, ForeignKeyShape, IndexKind, IndexShape, SchemaShape, TableShape } from './shape.ts';

/** Options of {@link detectDrift}. */
export interface DetectDriftOptions {
  /** The database to inspect, `mysql://…/<database>`. */
  url: string;
  /** The multi-file Prisma schema folder. Default: this repository's `prisma/schema`. */
  schemaDir?: string;
}

/** Every difference between the database at `url` and the Prisma schema; empty when they agree. */
export async function detectDrift(options: DetectDriftOptions): Promise<DriftDifference[]> {
  const expected = readPrismaShape(await readSchemaFiles(options.schemaDir ?? SCHEMA_DIR));
  const conn = await openConnection(options.url);
  try {
    return compareShapes(expected, await readDatabaseShape(conn));
  } finally {
    await conn.end();
  }
}

/** One difference per line, for test failures and CLI output. */
export function formatDifferences(differences: readonly DriftDifference[]): string {
  return differences.map((difference) => `- ${difference.message}`).join('\n');
}
