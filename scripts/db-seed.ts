/**
 * `npm run db:seed` — idempotent seed of DATABASE_URL: the `default` tenant, chat and image model catalogs with
 * their prices, and the default tenant's credit products. Existing rows are kept as they are unless `--overwrite`.
 */
import { parseArgs } from 'node:util';
import { createDb, redactUrl } from '@firefly/db';
import { seed } from '@firefly/db/seed';

const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/firefly';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { overwrite: { type: 'boolean' } }, strict: true });
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const db = createDb({ url, connectionLimit: 1 });
  try {
    const result = await seed(db, { overwrite: values.overwrite === true });
    console.log(
      `seeded ${redactUrl(url)}: default tenant, ${result.chatModels} chat models, ${result.imageModels} image models, ` +
        `${result.products} credit products${values.overwrite === true ? ' (overwritten)' : ''}`,
    );
  } finally {
    await db.$disconnect();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
