// Guarantees that only show when something goes wrong (issue 10, item 8): the database's CHECK constraints refuse a
// negative balance or hold whatever the code does; a sign-up grant parked while billing was unreachable is booked
// later, once; and an internal error reaches the client masked with the user subgraph and the gateway wired as in
// production (NODE_ENV=production: no detail, no stack, no SQL). Real MariaDB, Redis, billing; billing is taken
// away from the user subgraph by a TCP proxy.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '@firefly/auth';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { clientOf, REGISTER, registerWithEmail, STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';
import { startTcpProxy, type TcpProxy } from '../../src/tcp-proxy.ts';

/** The sorted set where the user subgraph parks sign-up grants billing did not take (domain/signup-grants.ts). */
const PENDING_GRANTS = 'signup-grants:pending';

let sg: Supergraph;
let billingProxy: TcpProxy;

beforeAll(async () => {
  // Production settings for the two processes a client's error passes through; the keys only satisfy production's
  // checks (the harness hands both processes this run's signing key itself).
  const key = JSON.stringify([(await generateSigningKey(`prod-${randomUUID().slice(0, 8)}`)).privateJwk]);
  const production = { NODE_ENV: 'production', ACCESS_TOKEN_KEYS: key };
  sg = await startSupergraph({
    processEnv: {
      user: {
        ...production,
        // Production refuses the public development keys of personal data's encryption.
        PII_KEYS: `prod:${randomBytes(32).toString('base64')}`,
        PII_INDEX_KEY: randomBytes(32).toString('base64'),
        // Production refuses the console SMS provider; no SMS is sent in this file.
        SMS_PROVIDER: 'aliyun',
        ALIYUN_SMS_ENDPOINT: 'http://127.0.0.1:9',
        ALIYUN_SMS_ACCESS_KEY_ID: 'unused',
        ALIYUN_SMS_ACCESS_KEY_SECRET: 'unused',
        ALIYUN_SMS_SIGN_NAME: 'unused',
        ALIYUN_SMS_TEMPLATE_CODE: 'unused',
      },
      gateway: production,
    },
    billingUrlForUser: async (billingUrl) => {
      billingProxy = await startTcpProxy(billingUrl);
      return billingProxy.url;
    },
  });
}, 180_000);
afterAll(async () => {
  await sg?.stop();
  await billingProxy?.close();
});

async function accountOf(userId: string) {
  return sg.db.creditAccount.findFirst({ where: { userId } });
}

describe('CHECK constraints on credit balances', () => {
  it('the database refuses a negative available balance or hold, whatever statement tries', async () => {
    const account = await registerWithEmail(clientOf(sg));
    const before = await accountOf(account.user.id);
    expect(before).toMatchObject({ available: 100, reserved: 0 });
    const id = before!.id;

    await expect(sg.db.$executeRaw`UPDATE CreditAccount SET available = available - 101 WHERE id = ${id}`).rejects.toThrow(/CreditAccount_available_nonnegative/);
    await expect(sg.db.$executeRaw`UPDATE CreditAccount SET reserved = -1 WHERE id = ${id}`).rejects.toThrow(/CreditAccount_reserved_nonnegative/);
    await expect(sg.db.creditAccount.update({ where: { id }, data: { available: { decrement: 1_000 } } })).rejects.toThrow(/nonnegative/);
    // Right down to zero is allowed; nothing of the refused statements was applied.
    expect(await accountOf(account.user.id)).toMatchObject({ available: 100, reserved: 0 });
    await sg.db.$executeRaw`UPDATE CreditAccount SET available = 0 WHERE id = ${id}`;
    expect(await accountOf(account.user.id)).toMatchObject({ available: 0, reserved: 0 });
  });
});

describe('sign-up grant while billing is unreachable', () => {
  it('registration succeeds, the grant is parked, retried while billing is down, then booked exactly once', { timeout: 150_000 }, async () => {
    billingProxy.setDown(true);
    let registered;
    try {
      const response = await clientOf(sg).call(REGISTER, { input: { email: uniqueEmail('grant'), password: STRONG_PASSWORD, displayName: 'Parked' } });
      expect(response.body.errors).toBeUndefined();
      registered = response.body.data!.register as { user: { id: string } };
      const member = `default|${registered.user.id}`;
      // The account exists and can sign in; the grant waits in Redis, due in the future.
      expect(await sg.db.user.findUnique({ where: { id: registered.user.id } })).not.toBeNull();
      expect(await sg.db.ledgerEntry.count({ where: { userId: registered.user.id } })).toBe(0);
      expect(Number(await sg.redis.zscore(PENDING_GRANTS, member))).toBeGreaterThan(Date.now());

      // Its retry time comes while billing is still down: the retry job tries, fails, and parks it again (later).
      await sg.redis.zadd(PENDING_GRANTS, 1, member);
      await expect.poll(async () => Number(await sg.redis.zscore(PENDING_GRANTS, member)), { timeout: 40_000, interval: 250 }).toBeGreaterThan(Date.now());
      expect(await sg.db.ledgerEntry.count({ where: { userId: registered.user.id } })).toBe(0);
    } finally {
      billingProxy.setDown(false);
    }

    const userId = registered.user.id;
    const member = `default|${userId}`;
    // Billing is back; the retry time comes: the grant is booked and leaves the set.
    await sg.redis.zadd(PENDING_GRANTS, 1, member);
    await expect.poll(async () => sg.redis.zscore(PENDING_GRANTS, member), { timeout: 40_000, interval: 250 }).toBeNull();
    expect(await accountOf(userId)).toMatchObject({ available: 100, reserved: 0 });

    // A second retry of the same grant (a duplicate entry, a retry whose answer was lost) books nothing more.
    await sg.redis.zadd(PENDING_GRANTS, 1, member);
    await expect.poll(async () => sg.redis.zscore(PENDING_GRANTS, member), { timeout: 40_000, interval: 250 }).toBeNull();
    const ledger = await sg.db.ledgerEntry.findMany({ where: { userId } });
    expect(ledger.map((entry) => [entry.reason, entry.delta])).toEqual([['GRANT', 100]]);
    expect(await accountOf(userId)).toMatchObject({ available: 100, reserved: 0 });
  });
});

describe('an internal error, with production settings', () => {
  it('reaches the client as INTERNAL_SERVER_ERROR with a generic message: no detail, no stack, no SQL', async () => {
    const account = await registerWithEmail(clientOf(sg));
    // The database refuses this user's row with a message full of internals, as a failed statement would.
    const trigger = `masked_error_probe_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await sg.db.$executeRawUnsafe(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE ON User FOR EACH ROW IF NEW.id = '${account.user.id}' THEN ` +
        `SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'SELECT secretHash FROM Credential WHERE userId = 42'; END IF`,
    );
    try {
      const response = await clientOf(sg).call(`mutation { updateProfile(input: { displayName: "New name" }) { id displayName } }`, undefined, account.accessToken);
      expect(response.body.errors).toEqual([{ message: 'Internal server error', path: ['updateProfile'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(JSON.stringify(response.body)).not.toMatch(/SELECT|secretHash|Credential|prisma|stack|\.ts:|45000/i);
    } finally {
      await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    // Unchanged, and the same request works once the database takes it.
    const after = await clientOf(sg).call(`mutation { updateProfile(input: { displayName: "New name" }) { displayName } }`, undefined, account.accessToken);
    expect(after.body.data?.updateProfile.displayName).toBe('New name');
  });
});
