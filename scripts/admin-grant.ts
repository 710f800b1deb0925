/**
 * `npm run admin:grant -- <email or phone> [--tenant <id>]` — grants ADMIN to an existing account of DATABASE_URL
 * (default tenant `default`) and prints what it did. Sessions signed in after it carry the role. It finds the
 * account through the email's or phone's blind index, so it needs the user subgraph's PII_INDEX_KEY (and NODE_ENV);
 * outside production, unset, both use the same development keys.
 * Exit codes: 0 granted or already an admin, 1 no such account or not an email/phone, 2 usage.
 */
import { parseArgs } from 'node:util';
import { piiCryptoFromEnv } from '@firefly/crypto';
import { createDb, redactUrl } from '@firefly/db';
import { grantAdmin } from '@firefly/subgraph-user/admin-grant';

const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/firefly';
const USAGE = 'usage: npm run admin:grant -- <email or phone> [--tenant <id>]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { tenant: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [login, ...rest] = parsed.positionals;
  if (!login || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const crypto = piiCryptoFromEnv();
  const db = createDb({ url, connectionLimit: 1 });
  try {
    const result = await grantAdmin(db, crypto, login, parsed.values.tenant);
    switch (result.outcome) {
      case 'granted':
        console.log(`granted ADMIN to user ${result.userId} of tenant ${result.tenantId} (roles now ${result.roles.join(', ')}) in ${redactUrl(url)}; it applies to sessions signed in from now on`);
        return 0;
      case 'already-admin':
        console.log(`user ${result.userId} of tenant ${result.tenantId} is already an ADMIN (roles ${result.roles.join(', ')}); nothing changed`);
        return 0;
      case 'not-found':
        console.error(`no account with that email or phone in tenant ${result.tenantId} (${redactUrl(url)}); register it first`);
        return 1;
      case 'invalid-login':
        console.error(`"${login}" is neither an email address nor a mainland China mobile number\n${USAGE}`);
        return 1;
    }
  } finally {
    await db.$disconnect();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
