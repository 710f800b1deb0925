// System settings in MySQL: a platform admin changes the sign-up grant and the order TTL through the gateway and the
// running billing subgraph applies them without a restart; unset, the environment's value is back; nobody else may
// change them; every change is audited. Settings are platform-wide, so this suite runs on a database and a Redis key
// prefix of its own: the other suites of the run keep the environment's values.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb } from '@firefly/db';
import { PRODUCT_IDS, seed } from '@firefly/db/seed';
import { createScratchDatabase, type ScratchDatabase } from '@firefly/db/testing';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { clientOf, REGISTER, STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

const SET = 'mutation S($key: String!, $value: Int) { setSetting(key: $key, value: $value) { key value updatedAt } }';
const SETTINGS = '{ settings { key value updatedAt } }';
const AUDIT = `query A { auditEvents(first: 100, action: "setSetting") { edges { node { action targetType targetId details actor { id } } } } }`;
const CREATE_ORDER = 'mutation($p: ID!, $c: PaymentChannel!) { createOrder(productId: $p, channel: $c) { id } }';

let sg: Supergraph;
let database: ScratchDatabase;
let adminId: string;
let adminToken: string;

beforeAll(async () => {
  database = await createScratchDatabase('firefly_settings');
  const db = createDb({ url: database.url, connectionLimit: 2 });
  try {
    await seed(db);
  } finally {
    await db.$disconnect();
  }
  // This test file runs in a process of its own: the harness reads both when it starts the supergraph.
  process.env.DATABASE_URL = database.url;
  process.env.REDIS_KEY_PREFIX = `${process.env.REDIS_KEY_PREFIX ?? ''}settings-${randomUUID().slice(0, 8)}:`;
  sg = await startSupergraph();
  const admin = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
  adminId = admin.user.id;
  adminToken = await sg.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
}, 120_000);
afterAll(async () => {
  await sg?.stop();
  await database?.drop();
});

const codeOf = (answer: GraphQLResponse) => answer.body.errors?.[0]?.extensions?.code as string | undefined;
const asAdmin = (query: string, variables?: Record<string, unknown>) => sg.request(query, { token: adminToken, ...(variables ? { variables } : {}) });

/** Signs up a new account (its own client IP) and returns the credits its sign-up grant gave it. */
async function signUpGrant(): Promise<number> {
  const registered = await clientOf(sg).call(REGISTER, { input: { email: uniqueEmail('settings'), password: STRONG_PASSWORD, displayName: 'Settings' } });
  expect(registered.body.errors).toBeUndefined();
  const userId = registered.body.data!.register.user.id as string;
  const grants = await sg.db.ledgerEntry.findMany({ where: { userId, reason: 'GRANT' } });
  return grants.reduce((sum, entry) => sum + entry.delta, 0);
}

/** Seconds between an order's creation and its expiry. */
async function orderTtlSeconds(token: string): Promise<number> {
  const created = await sg.request(CREATE_ORDER, { token, variables: { p: PRODUCT_IDS.CREDITS_550, c: 'ALIPAY' } });
  expect(created.body.errors).toBeUndefined();
  const order = await sg.db.order.findUniqueOrThrow({ where: { id: created.body.data!.createOrder.id as string } });
  return Math.round((order.expiresAt.getTime() - order.createdAt.getTime()) / 1000);
}

describe('system settings', () => {
  it('the sign-up grant and the order TTL change on the running platform, and fall back to the environment when unset', async () => {
    expect(await signUpGrant()).toBe(100); // SIGNUP_GRANT_CREDITS default
    const set = await asAdmin(SET, { key: 'signupGrantCredits', value: 7 });
    expect(set.body.errors).toBeUndefined();
    expect(set.body.data!.setSetting).toMatchObject({ key: 'signupGrantCredits', value: 7 });
    // Billing takes it from Redis (announced within milliseconds); no process restarts.
    await vi.waitFor(async () => expect(await signUpGrant()).toBe(7), { timeout: 20_000, interval: 50 });

    const buyer = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const buyerToken = await sg.tokenFor(buyer.user);
    expect(await orderTtlSeconds(buyerToken)).toBe(900); // ORDER_TTL_SECONDS default
    expect((await asAdmin(SET, { key: 'orderTtlSeconds', value: 120 })).body.errors).toBeUndefined();
    await vi.waitFor(async () => expect(await orderTtlSeconds(buyerToken)).toBe(120), { timeout: 20_000, interval: 50 });

    const listed = (await asAdmin(SETTINGS)).body.data!.settings as Array<{ key: string; value: number | null }>;
    expect(listed.map(({ key, value }) => ({ key, value }))).toEqual([
      { key: 'signupGrantCredits', value: 7 },
      { key: 'orderTtlSeconds', value: 120 },
    ]);

    expect((await asAdmin(SET, { key: 'signupGrantCredits', value: null })).body.data!.setSetting).toEqual({ key: 'signupGrantCredits', value: null, updatedAt: null });
    await vi.waitFor(async () => expect(await signUpGrant()).toBe(100), { timeout: 20_000, interval: 50 });

    const events = ((await asAdmin(AUDIT)).body.data!.auditEvents.edges as Array<{ node: { targetId: string; details: any; actor: { id: string } } }>).map((e) => e.node).reverse();
    expect(events.map((event) => [event.targetId, event.details])).toEqual([
      ['signupGrantCredits', { before: { value: null }, after: { value: 7 } }],
      ['orderTtlSeconds', { before: { value: null }, after: { value: 120 } }],
      ['signupGrantCredits', { before: { value: 7 }, after: { value: null } }],
    ]);
    for (const event of events) expect(event.actor).toEqual({ id: adminId });
  }, 120_000);

  it('refuses unknown keys and values out of bounds naming the field, and everyone but platform admins', async () => {
    expect((await asAdmin(SET, { key: 'noSuchSetting', value: 1 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
    expect((await asAdmin(SET, { key: 'orderTtlSeconds', value: 5 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
    expect((await asAdmin(SET, { key: 'signupGrantCredits', value: -1 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });

    const plain = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const plainToken = await sg.tokenFor(plain.user);
    const tenantId = `s-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId, { name: 'Other' });
    const foreign = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: foreign.user.id }, data: { roles: 'USER,ADMIN' } });
    const foreignToken = await sg.tokenFor({ ...foreign.user, roles: ['USER', 'ADMIN'] });
    for (const [query, variables] of [[SET, { key: 'signupGrantCredits', value: 100_000 }], [SETTINGS, {}]] as const) {
      expect(codeOf(await sg.request(query, { token: plainToken, variables }))).toBe('FORBIDDEN');
      expect(codeOf(await sg.request(query, { token: foreignToken, variables, headers: { 'x-tenant-id': tenantId } }))).toBe('FORBIDDEN');
      expect(codeOf(await sg.request(query, { variables }))).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
    }
    expect(await sg.db.setting.findUnique({ where: { key: 'signupGrantCredits' } })).toBeNull();
  });
});
