import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// packages/db/src → repository root. Resolved from this file so scripts and tests work from any cwd.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `prisma/migrations` of this repository. */
export const MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');
/** `prisma/schema` of this repository (the multi-file Prisma schema). */
export const SCHEMA_DIR = join(ROOT, 'prisma', 'schema');
