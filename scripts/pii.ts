/**
 * Personal-data jobs against DATABASE_URL, with the user subgraph's PII keys (PII_KEYS, PII_ACTIVE_KEY_ID,
 * PII_INDEX_KEY, NODE_ENV — the same variables; docs/operations.md, "Personal data encryption"):
 *
 *   npm run pii:encrypt -- [--batch-size 500] [--tenant <id>] [--check]
 *       seals the emails and phones of rows written before PII encryption and empties their clear columns
 *   npm run pii:rotate -- [--batch-size 500] [--tenant <id>] [--check]
 *       re-encrypts every value not under PII_ACTIVE_KEY_ID (old key ids must still be in PII_KEYS)
 *
 * Both run beside live traffic, in batches, and may be stopped (Ctrl-C finishes the batch in hand) and run again:
 * done rows are skipped. `--check` only counts what is left. Prints counts and user ids, never a value.
 * Exit codes: 0 nothing left, 1 rows left or failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { piiCryptoFromEnv } from '@firefly/crypto';
import { createDb, redactUrl } from '@firefly/db';
import { countLegacyRows, countRowsToRotate, encryptLegacyRows, rotatePiiRows } from '@firefly/subgraph-user/pii-jobs';

const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/firefly';
const USAGE = 'usage: tsx scripts/pii.ts <encrypt|rotate> [--batch-size <n>] [--tenant <id>] [--check]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { 'batch-size': { type: 'string' }, tenant: { type: 'string' }, check: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [job, ...rest] = parsed.positionals;
  const batchSize = Number(parsed.values['batch-size'] ?? 500);
  if ((job !== 'encrypt' && job !== 'rotate') || rest.length > 0 || !Number.isInteger(batchSize) || batchSize < 1) {
    console.error(USAGE);
    return 2;
  }
  const tenantId = parsed.values.tenant;
  const crypto = piiCryptoFromEnv();
  if (crypto.developmentKeys) console.warn('warning: running on the public DEVELOPMENT PII keys (PII_KEYS / PII_INDEX_KEY unset)');
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const db = createDb({ url, connectionLimit: 2 });
  let stop = false;
  process.once('SIGINT', () => {
    stop = true;
    console.error('stopping after the batch in hand; run again to resume');
  });
  try {
    const what = job === 'encrypt' ? 'users with a clear email or phone' : `users with a value not under key id ${crypto.envelope.activeKeyId}`;
    if (parsed.values.check === true) {
      const left = job === 'encrypt' ? await countLegacyRows(db, tenantId) : await countRowsToRotate(db, crypto, tenantId);
      console.log(`${left} ${what} in ${redactUrl(url)}`);
      return left === 0 ? 0 : 1;
    }
    const options = {
      batchSize,
      ...(tenantId ? { tenantId } : {}),
      stopRequested: () => stop,
      onBatch: ({ rows, changed }: { rows: number; changed: number }) => console.log(`batch: ${changed} of ${rows} rows done`),
    };
    const report = job === 'encrypt' ? await encryptLegacyRows(db, crypto, options) : await rotatePiiRows(db, crypto, options);
    console.log(`${job}: ${report.changed} rows done in ${report.batches} batches; ${report.remaining} ${what} left in ${redactUrl(url)}`);
    if (report.raced > 0) console.log(`${report.raced} rows changed while being read; run again to take them`);
    if (report.failed.length > 0) console.error(`could not do users ${report.failed.join(', ')}: another user of the tenant already holds the same email or phone`);
    return report.remaining === 0 && report.failed.length === 0 ? 0 : 1;
  } finally {
    await db.$disconnect();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  // Configuration and decryption errors name variables and key ids, never values.
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
