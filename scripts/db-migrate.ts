/**
 * `npm run db:migrate` — applies pending migrations from prisma/migrations to DATABASE_URL (creating the database
 * if missing) with our engine-free runner, recording them in Prisma's `_prisma_migrations` table.
 *
 *   npm run db:migrate                          apply pending migrations
 *   npm run db:migrate -- --rolled-back <name>  mark a failed migration rolled back (after fixing it by hand),
 *                                               like `prisma migrate resolve --rolled-back <name>`
 */
import { parseArgs } from 'node:util';
import { redactUrl } from '@firefly/db';
import { markMigrationRolledBack, migrate, MigrationError, MIGRATIONS_DIR, type MigrateLogger } from '@firefly/db/migrate';

const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/firefly';

const consoleLogger: MigrateLogger = {
  info: (fields, message) => console.log(`${message}${formatFields(fields)}`),
  warn: (fields, message) => console.warn(`warning: ${message}${formatFields(fields)}`),
};

function formatFields(fields: Record<string, unknown>): string {
  const entries = Object.entries(fields);
  return entries.length === 0 ? '' : ` (${entries.map(([key, value]) => `${key}: ${String(value)}`).join(', ')})`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'rolled-back': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help === true) {
    console.log('usage: npm run db:migrate [-- --rolled-back <migration name>]   (reads DATABASE_URL)');
    return 0;
  }
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

  const rolledBack = values['rolled-back'];
  if (rolledBack !== undefined) {
    if (await markMigrationRolledBack({ url, migrationName: rolledBack })) {
      console.log(`marked ${rolledBack} as rolled back; the next \`npm run db:migrate\` applies it again`);
      return 0;
    }
    console.error(`no failed migration named ${rolledBack} in ${redactUrl(url)}`);
    return 1;
  }

  console.log(`migrating ${redactUrl(url)} from ${MIGRATIONS_DIR}`);
  const { applied } = await migrate({ url, migrationsDir: MIGRATIONS_DIR, logger: consoleLogger });
  console.log(applied.length === 0 ? 'nothing to apply' : `applied ${applied.length} migration(s): ${applied.join(', ')}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  // A MigrationError's message is the whole story (which migration, what to do); anything else gets its stack.
  console.error(error instanceof MigrationError ? `migration refused: ${error.message}` : error);
  process.exitCode = 1;
}
