// Sealing rows written before PII encryption (`npm run pii:encrypt`) and rotating the master key (`npm run
// pii:rotate`), both stopped after one batch and resumed, against a user subgraph running with two master keys.
// The raw table is read with SQL.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPiiCrypto, type PiiCrypto } from '@firefly/crypto';
import { countLegacyRows, encryptLegacyRows, rotatePiiRows } from '@firefly/subgraph-user/pii-jobs';
import { clientOf, expectOk, LOGIN_SMS, requestCode, startIdentitySupergraph, uniqueEmail, uniquePhone, type IdentitySupergraph } from '../../src/identity-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

const TENANT = `pii-${randomUUID().slice(0, 8)}`;
const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');
const INDEX = randomBytes(32).toString('base64');
const crypto = (keys: string, active: string): PiiCrypto => createPiiCrypto({ NODE_ENV: 'test', PII_KEYS: keys, PII_ACTIVE_KEY_ID: active, PII_INDEX_KEY: INDEX });
/** Before the rotation: only the old key. */
const before = crypto(`old:${OLD}`, 'old');
/** During: both keys, the new one active (what the user subgraph runs with here). */
const during = crypto(`old:${OLD},new:${NEW}`, 'new');
/** After: the old key removed. */
const after = crypto(`new:${NEW}`, 'new');

let sg: IdentitySupergraph;
beforeAll(async () => {
  sg = await startIdentitySupergraph({ env: { PII_KEYS: `old:${OLD},new:${NEW}`, PII_ACTIVE_KEY_ID: 'new', PII_INDEX_KEY: INDEX } });
  await ensureTenant(sg, TENANT, { name: 'PII migration' });
});
afterAll(async () => {
  await sg?.stop();
});

type Raw = { id: string; email: string | null; phone: string | null; emailCiphertext: string | null; phoneCiphertext: string | null; emailIndex: string | null; phoneIndex: string | null };
const rawRows = async (): Promise<Raw[]> => sg.db.$queryRaw<Raw[]>`SELECT id, email, phone, emailCiphertext, phoneCiphertext, emailIndex, phoneIndex FROM \`User\` WHERE tenantId = ${TENANT} ORDER BY id`;

/** Legacy rows as the release before PII encryption wrote them, with what each holds. */
const legacy: { id: string; email: string | null; phone: string | null }[] = [];

/** Opens a row's sealed values with a keyring; a value sealed twice would open to a ciphertext, not to the value. */
const opened = (row: Raw, keys: PiiCrypto) => ({
  id: row.id,
  email: row.emailCiphertext && keys.envelope.decrypt(row.emailCiphertext, `user:${TENANT}:${row.id}:email`),
  phone: row.phoneCiphertext && keys.envelope.decrypt(row.phoneCiphertext, `user:${TENANT}:${row.id}:phone`),
});

describe('npm run pii:encrypt', () => {
  it('seals 7 clear rows in batches of 3, stopped after one batch and resumed: none lost, none sealed twice, no clear value left', async () => {
    for (let i = 0; i < 7; i++) {
      const row = { id: randomUUID(), email: i % 3 === 2 ? null : uniqueEmail('legacy'), phone: i % 3 === 1 ? null : uniquePhone() };
      legacy.push(row);
      await sg.db.$executeRaw`INSERT INTO \`User\` (id, tenantId, displayName, email, phone, roles, status, updatedAt)
        VALUES (${row.id}, ${TENANT}, 'Legacy', ${row.email}, ${row.phone}, 'USER', 'ACTIVE', NOW(3))`;
    }
    legacy.sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(await countLegacyRows(sg.db, TENANT)).toBe(7);

    // Interrupted after its first batch (as Ctrl-C between batches does).
    const first = await encryptLegacyRows(sg.db, before, { tenantId: TENANT, batchSize: 3, maxBatches: 1 });
    expect(first).toMatchObject({ changed: 3, batches: 1, failed: [], remaining: 4 });
    const halfway = await rawRows();
    expect(halfway.filter((r) => r.emailCiphertext || r.phoneCiphertext)).toHaveLength(3);
    expect(halfway.filter((r) => r.email || r.phone)).toHaveLength(4);

    const resumed = await encryptLegacyRows(sg.db, before, { tenantId: TENANT, batchSize: 3 });
    expect(resumed).toMatchObject({ changed: 4, failed: [], remaining: 0 });
    // A third run finds nothing to do.
    expect(await encryptLegacyRows(sg.db, before, { tenantId: TENANT, batchSize: 3 })).toMatchObject({ changed: 0, remaining: 0 });

    const rows = await rawRows();
    expect(rows).toHaveLength(7);
    const dump = JSON.stringify(rows);
    for (const row of legacy) {
      if (row.email) expect(dump).not.toContain(row.email);
      if (row.phone) expect(dump).not.toContain(row.phone);
    }
    expect(rows.every((r) => r.email === null && r.phone === null)).toBe(true);
    expect(rows.map((r) => opened(r, before))).toEqual(legacy);
    expect(rows.every((r) => [r.emailCiphertext, r.phoneCiphertext].every((c) => c === null || c.startsWith('p1.old.')))).toBe(true);
    // Each run that sealed rows is in the tenant's audit log, the CLI as actor; the run with nothing to do is not.
    const audited = await sg.db.auditEvent.findMany({ where: { tenantId: TENANT, action: 'pii:encrypt' }, orderBy: { createdAt: 'asc' } });
    expect(audited.map((event) => [event.actor, event.targetType, JSON.parse(event.details!)])).toEqual([
      ['cli:pii', 'User', { changed: 3, failed: 0, keyId: 'old' }],
      ['cli:pii', 'User', { changed: 4, failed: 0, keyId: 'old' }],
    ]);
    // They name no value.
    const dumpOfEvents = JSON.stringify(audited);
    for (const row of legacy) for (const value of [row.email, row.phone]) if (value) expect(dumpOfEvents).not.toContain(value);
    expect(rows.map((r) => r.phoneIndex === null)).toEqual(legacy.map((r) => r.phone === null));
  });

  it('a sealed legacy phone signs in with an SMS code', async () => {
    const row = legacy.find((r) => r.phone)!;
    const client = clientOf(sg, { tenant: TENANT });
    const code = await requestCode(sg, client, row.phone!, 'LOGIN');
    const signedIn = expectOk(await client.call(LOGIN_SMS, { phone: row.phone, code })).loginWithSmsCode;
    expect(signedIn.user).toMatchObject({ id: row.id, phone: row.phone });
  });
});

describe('npm run pii:rotate', () => {
  it('re-encrypts every row under the new key in batches, stopped and resumed, without losing one; sign-in still works', async () => {
    const first = await rotatePiiRows(sg.db, during, { tenantId: TENANT, batchSize: 3, maxBatches: 1 });
    expect(first).toMatchObject({ changed: 3, batches: 1, failed: [], remaining: 4 });
    // Mid-rotation both key ids are stored, and the service opens both.
    const mixed = await rawRows();
    expect(new Set(mixed.flatMap((r) => [r.emailCiphertext, r.phoneCiphertext]).filter(Boolean).map((c) => c!.split('.')[1]))).toEqual(new Set(['old', 'new']));

    const resumed = await rotatePiiRows(sg.db, during, { tenantId: TENANT, batchSize: 3 });
    expect(resumed).toMatchObject({ changed: 4, failed: [], remaining: 0 });

    const rows = await rawRows();
    expect(rows).toHaveLength(7);
    expect(rows.flatMap((r) => [r.emailCiphertext, r.phoneCiphertext]).filter(Boolean).every((c) => c!.startsWith('p1.new.'))).toBe(true);
    // Every value opens without the old key, to what it was; the blind indexes did not change.
    expect(rows.map((r) => opened(r, after))).toEqual(legacy);
    expect(rows.map((r) => [r.emailIndex, r.phoneIndex])).toEqual(mixed.map((r) => [r.emailIndex, r.phoneIndex]));
    const audited = await sg.db.auditEvent.findMany({ where: { tenantId: TENANT, action: 'pii:rotate' }, orderBy: { createdAt: 'asc' } });
    expect(audited.map((event) => JSON.parse(event.details!))).toEqual([
      { changed: 3, failed: 0, keyId: 'new' },
      { changed: 4, failed: 0, keyId: 'new' },
    ]);

    const row = legacy.find((r) => r.phone)!;
    const client = clientOf(sg, { tenant: TENANT });
    const code = await requestCode(sg, client, row.phone!, 'LOGIN');
    expect(expectOk(await client.call(LOGIN_SMS, { phone: row.phone, code })).loginWithSmsCode.user).toMatchObject({ id: row.id, phone: row.phone });
  });
});
