// System settings in MySQL: a platform admin changes the sign-up grant and the order TTL through the gateway and the
// running billing subgraph applies them without a restart; the per-user caps of chat answers and image jobs and the
// gateway's per-user rate limit likewise, on two replicas of each; unset, the environment's value is back; nobody
// else may change them; every change is audited. Settings are platform-wide, so this suite runs on a database and a
// Redis key prefix of its own: the other suites of the run keep the environment's values.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Identity } from '@firefly/auth';
import { createCreditsClient } from '@firefly/credits-client';
import { createDb } from '@firefly/db';
import { PRODUCT_IDS, seed } from '@firefly/db/seed';
import { createScratchDatabase, type ScratchDatabase } from '@firefly/db/testing';
import { createLogger } from '@firefly/logger';
import type { SubgraphServer } from '@firefly/server-kit';
import { buildConversationSubgraph, loadConversationConfig } from '@firefly/subgraph-conversation';
import { buildImageSubgraph, loadImageConfig } from '@firefly/subgraph-image';
import { callSubgraph, CREATE_CONVERSATION, createChatUser, expectData, SEND_MESSAGE, STOP_GENERATION, type ChatUser } from '../../src/chat-helpers.ts';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { clientOf, REGISTER, STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';
import { CREATE_IMAGE_JOB } from '../../src/image-helpers.ts';
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
      { key: 'maxConcurrentGenerationsPerUser', value: null },
      { key: 'maxActiveImageJobsPerUser', value: null },
      { key: 'rateLimitPerUserPerMinute', value: null },
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
    expect((await asAdmin(SET, { key: 'maxConcurrentGenerationsPerUser', value: 0 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
    // Never below 10 a minute: an admin cannot lock everyone, themselves included, out of setting it back.
    expect((await asAdmin(SET, { key: 'rateLimitPerUserPerMinute', value: 9 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });

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

/** Waits (on events, not a clock) until a replica has taken a change: it arrives by Redis pub/sub within milliseconds. */
const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 20_000, interval: 25 });

/** The settings changes this describe made, oldest first, as the audit log holds them. */
async function auditedChanges(keys: readonly string[], admin = { id: adminId, token: adminToken }): Promise<Array<[string, unknown]>> {
  const answer = await sg.request(AUDIT, { token: admin.token });
  const events = (answer.body.data!.auditEvents.edges as Array<{ node: { targetId: string; details: unknown; actor: { id: string } } }>).map((e) => e.node).reverse();
  const changes = events.filter((event) => keys.includes(event.targetId));
  for (const event of changes) expect(event.actor).toEqual({ id: admin.id });
  return changes.map((event) => [event.targetId, event.details]);
}

describe('caps and the rate-limit override, on two replicas', () => {
  const logger = createLogger({ service: 'settings-e2e', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  /** Second replicas of the conversation and image subgraphs (in this process, each following the settings itself). */
  const replicas: SubgraphServer[] = [];
  let conversationB: string;
  let imageB: string;
  let gatewayB: string;

  beforeAll(async () => {
    const conversation = await buildConversationSubgraph(
      loadConversationConfig({
        NODE_ENV: 'test',
        INTERNAL_TOKEN_SECRET: sg.internalTokenSecret,
        DASHSCOPE_BASE_URL: sg.simulator.baseUrl,
        DASHSCOPE_API_KEY: sg.simulator.apiKey,
        REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX,
        SHUTDOWN_GRACE_SECONDS: '3',
      }),
      { db: sg.db, redis: sg.redis, logger, credits: createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'conversation' }) },
    );
    const image = await buildImageSubgraph(loadImageConfig(sg.imageEnv), {
      db: sg.db,
      redis: sg.redis,
      logger,
      credits: createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'image' }),
    });
    replicas.push(conversation, image);
    conversationB = await conversation.listen(0);
    imageB = await image.listen(0);
    gatewayB = await sg.startGateway();
  }, 120_000);
  afterAll(async () => {
    sg.simulator.setFaults([]);
    await Promise.all(replicas.map((replica) => replica.stop()));
  });

  const identityOf = (user: ChatUser): Identity => ({ kind: 'user', tenantId: user.tenantId, userId: user.id, roles: ['USER'], sessionId: randomUUID(), requestId: randomUUID() });

  it('maxConcurrentGenerationsPerUser: the next answer on either conversation replica is held to the new cap, and to the environment once unset', async () => {
    // Answers stall after their headers until stopped: each started one keeps its slot.
    sg.simulator.setFaults([{ kind: 'stall', endpoints: ['generation'] }]);
    const user = await createChatUser(sg, 100_000);
    const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
    const send = (onB: boolean) => {
      const variables = { input: { conversationId, content: 'Hold this slot' } };
      return onB ? callSubgraph(conversationB, sg.internalTokenSecret, identityOf(user), SEND_MESSAGE, variables) : user.call(SEND_MESSAGE, variables);
    };
    /** Sends one more message; an answer started is stopped at once, so the user keeps exactly one running. */
    const tryStart = async (onB: boolean): Promise<string> => {
      const answer = await send(onB);
      const started = answer.body.data?.sendMessage?.assistantMessage?.id as string | undefined;
      if (!started) return String(answer.body.errors?.[0]?.extensions?.code);
      expectData(await user.call(STOP_GENERATION, { messageId: started }));
      return 'STARTED';
    };
    const running = expectData(await send(false)).sendMessage.assistantMessage.id as string;
    // MAX_CONCURRENT_GENERATIONS_PER_USER (3): a second answer starts.
    expect(await tryStart(false)).toBe('STARTED');

    expect((await asAdmin(SET, { key: 'maxConcurrentGenerationsPerUser', value: 1 })).body.errors).toBeUndefined();
    const setAt = Date.now();
    for (const onB of [false, true]) await eventually(async () => expect(await tryStart(onB)).toBe('RATE_LIMITED'));
    const appliedWithinMs = Date.now() - setAt;
    const refused = await send(true);
    expect(refused.body.errors?.[0]).toMatchObject({ message: expect.stringContaining('At most 1 answers') as unknown, extensions: { code: 'RATE_LIMITED' } });

    expect((await asAdmin(SET, { key: 'maxConcurrentGenerationsPerUser', value: null })).body.errors).toBeUndefined();
    for (const onB of [false, true]) await eventually(async () => expect(await tryStart(onB)).toBe('STARTED'));

    expectData(await user.call(STOP_GENERATION, { messageId: running }));
    sg.simulator.setFaults([]);
    expect(await auditedChanges(['maxConcurrentGenerationsPerUser'])).toEqual([
      ['maxConcurrentGenerationsPerUser', { before: { value: null }, after: { value: 1 } }],
      ['maxConcurrentGenerationsPerUser', { before: { value: 1 }, after: { value: null } }],
    ]);
    console.info(`settings e2e: maxConcurrentGenerationsPerUser applied on both conversation replicas ${appliedWithinMs} ms after setSetting answered`);
  }, 120_000);

  it('maxActiveImageJobsPerUser: the next job on either image replica is held to the new cap, and to the environment once unset', async () => {
    // No image worker runs in this suite: every job created stays QUEUED, so it counts as active.
    const user = await createChatUser(sg, 100_000);
    const input = { prompt: 'A lantern by the river', model: 'wanx2.1-t2i-turbo', size: '1024*1024', count: 1 };
    const create = (onB: boolean) =>
      onB ? callSubgraph(imageB, sg.internalTokenSecret, identityOf(user), CREATE_IMAGE_JOB, { input }) : user.call(CREATE_IMAGE_JOB, { input });
    /** Creates one more job; one created is cancelled at once, so the user keeps exactly one active. */
    const tryCreate = async (onB: boolean): Promise<string> => {
      const answer = await create(onB);
      const created = answer.body.data?.createImageJob?.id as string | undefined;
      if (!created) return String(answer.body.errors?.[0]?.extensions?.code);
      expectData(await user.call('mutation C($id: ID!) { cancelImageJob(id: $id) { id } }', { id: created }));
      return 'CREATED';
    };
    const first = expectData(await create(false)).createImageJob.id as string;
    // MAX_ACTIVE_IMAGE_JOBS_PER_USER (5): a second job is taken.
    expect(await tryCreate(false)).toBe('CREATED');

    expect((await asAdmin(SET, { key: 'maxActiveImageJobsPerUser', value: 1 })).body.errors).toBeUndefined();
    const setAt = Date.now();
    for (const onB of [false, true]) await eventually(async () => expect(await tryCreate(onB)).toBe('RATE_LIMITED'));
    const appliedWithinMs = Date.now() - setAt;
    expect((await create(true)).body.errors?.[0]?.message).toContain('At most 1 image jobs');

    expect((await asAdmin(SET, { key: 'maxActiveImageJobsPerUser', value: null })).body.errors).toBeUndefined();
    for (const onB of [false, true]) await eventually(async () => expect(await tryCreate(onB)).toBe('CREATED'));
    expect(await auditedChanges(['maxActiveImageJobsPerUser'])).toEqual([
      ['maxActiveImageJobsPerUser', { before: { value: null }, after: { value: 1 } }],
      ['maxActiveImageJobsPerUser', { before: { value: 1 }, after: { value: null } }],
    ]);
    console.info(`settings e2e: maxActiveImageJobsPerUser applied on both image replicas ${appliedWithinMs} ms after setSetting answered`);
    // The one job kept active would stay QUEUED on the run's shared image queue, for another file's worker to take and
    // settle through its own billing (as catalog's did: db1bfd6, 6e38ac3).
    expect(expectData(await user.call('mutation C($id: ID!) { cancelImageJob(id: $id) { id status } }', { id: first })).cancelImageJob.status).toBe('CANCELED');
    expect(await sg.db.imageJob.count({ where: { userId: user.id, status: { in: ['QUEUED', 'RUNNING'] } } })).toBe(0);
  }, 120_000);

  it('rateLimitPerUserPerMinute: on both gateway replicas a user is held to the new per-minute limit, and to RATE_LIMIT_PER_USER once unset', async () => {
    const ME = '{ me { id } }';
    const meOn = (gateway: string, token: string) =>
      fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: ME }) }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as GraphQLResponse['body'] }),
      );
    /** A fresh user's operations on one replica until the first refusal (or 20 allowed); returns how many were allowed. */
    const allowedBeforeRefusal = async (gateway: string): Promise<{ allowed: number; token: string }> => {
      const { user } = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
      const token = await sg.tokenFor(user);
      for (let allowed = 0; allowed < 20; allowed++) {
        const answer = await meOn(gateway, token);
        if (answer.body.errors) {
          expect({ status: answer.status, code: codeOf(answer) }).toEqual({ status: 429, code: 'RATE_LIMITED' });
          expect(answer.body.errors[0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
          return { allowed, token };
        }
        expect(answer.body.data!.me).toEqual({ id: user.id });
      }
      return { allowed: 20, token };
    };
    // An admin of its own: the suite's admin may have used its 10 operations of this minute already.
    const { user: admin } = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: admin.id }, data: { roles: 'USER,ADMIN' } });
    const rateAdmin = { id: admin.id, token: await sg.tokenFor({ ...admin, roles: ['USER', 'ADMIN'] }) };
    const set = (value: number | null) => sg.request(SET, { token: rateAdmin.token, variables: { key: 'rateLimitPerUserPerMinute', value } });
    // RATE_LIMIT_PER_USER (1200/60): 20 in a row are far from it.
    expect((await allowedBeforeRefusal(sg.gatewayUrl)).allowed).toBe(20);

    expect((await set(10)).body.errors).toBeUndefined();
    const setAt = Date.now();
    const limited: string[] = [];
    for (const gateway of [sg.gatewayUrl, gatewayB]) {
      await eventually(async () => {
        const { allowed, token } = await allowedBeforeRefusal(gateway);
        expect(allowed).toBe(10);
        limited.push(token);
      });
    }
    const appliedWithinMs = Date.now() - setAt;
    // The counters are shared: a user refused on one replica is refused on the other.
    expect(codeOf(await meOn(gatewayB, limited[0]!))).toBe('RATE_LIMITED');

    expect((await set(null)).body.errors).toBeUndefined();
    // Back to 1200 a minute: the users refused a moment ago are let in again within the same minute, on both replicas.
    for (const gateway of [sg.gatewayUrl, gatewayB]) {
      for (const token of limited) await eventually(async () => expect((await meOn(gateway, token)).body.errors).toBeUndefined());
    }
    expect(await auditedChanges(['rateLimitPerUserPerMinute'], rateAdmin)).toEqual([
      ['rateLimitPerUserPerMinute', { before: { value: null }, after: { value: 10 } }],
      ['rateLimitPerUserPerMinute', { before: { value: 10 }, after: { value: null } }],
    ]);
    console.info(`settings e2e: rateLimitPerUserPerMinute applied on both gateway replicas ${appliedWithinMs} ms after setSetting answered`);
  }, 120_000);
});
