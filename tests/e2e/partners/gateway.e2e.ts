// Partner requests through two gateway replicas (the harness's, and gateway B in a process of its own): x-api-key
// identity (the partner's account, or the user of a bearer token sent with the key), refusals of unknown, revoked
// and suspended keys on both replicas from the next request on, signed requests (valid, missing, wrong, stale,
// replayed on the other replica, altered body), the per-key rate limit shared by both replicas, lastUsedAt, and the
// access log and metrics per partner.
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicJwks } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import { operationId } from '@firefly/persisted-queries';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { CREATE_CONVERSATION, SEND_MESSAGE } from '../../src/chat-helpers.ts';
import { createAdmin, createKey, createPartner as createBarePartner, ok, publishList, REVOKE_KEY, SET_PARTNER_STATUS, type Admin, type CreatedPartner } from '../../src/partner-helpers.ts';
import { syncPartnerMarkers } from '../../../subgraphs/user/src/domain/partners.ts';
import { eventually, readMetric, startProcess, type ManagedProcess } from '../../src/subscription-processes.ts';
import { ensureTenant } from '../../src/tenants.ts';

// Refused keys count per client IP (key-guessing.e2e.ts tests that limit): every scenario here comes from loopback.
const ENV = { PARTNER_LAST_USED_FLUSH_SECONDS: '1', PARTNER_KEY_FAILURES_PER_IP: '10000/60' };

let sg: Supergraph;
let gatewayB: ManagedProcess;
let admin: Admin;

beforeAll(async () => {
  sg = await startSupergraph({ env: ENV });
  gatewayB = await startProcess('gateway-b', 'gateway/src/main.ts', {
    ...ENV,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    TRUST_PROXY: 'loopback',
    INTERNAL_TOKEN_SECRET: sg.internalTokenSecret,
    ACCESS_TOKEN_PUBLIC_KEYS: JSON.stringify(publicJwks([sg.signingKey]).keys),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? '',
    USER_SUBGRAPH_URL: sg.subgraphUrls.user,
    CONVERSATION_SUBGRAPH_URL: sg.subgraphUrls.conversation,
    IMAGE_SUBGRAPH_URL: sg.subgraphUrls.image,
    BILLING_SUBGRAPH_URL: sg.subgraphUrls.billing,
    // A loaded machine (several suites at once) can take over a minute to start a process.
  }, { readyTimeoutMs: 180_000 });
  admin = await createAdmin(sg);
}, 300_000);

afterAll(async () => {
  await gatewayB?.stop();
  await sg?.stop();
});

const gateways = () => [sg.gatewayUrl, gatewayB.url];

/** Every document these scenarios send with a key: a partner runs only its persisted query list. */
const LISTED = [
  '{ me { id } }',
  '{ users(first: 1) { edges { node { id } } } }',
  ...['changed', 'after revocation', 'unsigned'].map((name) => `mutation { updateProfile(input: { displayName: "${name}" }) { id } }`),
  CREATE_CONVERSATION,
  SEND_MESSAGE,
];

/** A partner whose list holds LISTED (tests/e2e/persisted-queries covers the lists themselves). */
async function createPartner(admin: Admin): Promise<CreatedPartner> {
  const partner = await createBarePartner(admin);
  await publishList(admin, partner.id, LISTED);
  return partner;
}

interface Call {
  key?: string;
  token?: string;
  query?: string;
  variables?: Record<string, unknown>;
  /** Exact body bytes to send (default: the JSON of query and variables). */
  body?: string;
  headers?: Record<string, string>;
}

async function post(gatewayUrl: string, call: Call): Promise<GraphQLResponse & { retryAfter: string | null }> {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(call.key !== undefined ? { 'x-api-key': call.key } : {}),
      ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
      ...call.headers,
    },
    body: call.body ?? JSON.stringify({ query: call.query ?? '{ me { id } }', variables: call.variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GraphQLResponse['body'] };
}

/** The contract's signature, written here from the contract (not imported from the gateway). */
function signatureHeaders(secret: string, method: string, path: string, body: string, options: { timestamp?: number; nonce?: string } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? randomBytes(16).toString('base64url');
  const canonical = `${method}\n${path}\n${timestamp}\n${nonce}\n${createHash('sha256').update(body, 'utf8').digest('hex')}`;
  return { 'x-firefly-timestamp': timestamp, 'x-firefly-nonce': nonce, 'x-firefly-signature': createHmac('sha256', secret).update(canonical, 'utf8').digest('base64') };
}

const codeOf = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

function expectRefused(response: GraphQLResponse, code = 'UNAUTHENTICATED'): void {
  expect(codeOf(response), JSON.stringify(response.body)).toBe(code);
  expect(response.body.data).toBeUndefined();
}

describe('identity', () => {
  it('a key alone acts as the partner account on both replicas; with a bearer token it acts as that user', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    const user = await createAdmin(sg); // any signed-in user; its ADMIN role is irrelevant here
    for (const gatewayUrl of gateways()) {
      expect(ok(await post(gatewayUrl, { key })).me).toEqual({ id: partner.accountId });
      expect(ok(await post(gatewayUrl, { key, token: user.token })).me).toEqual({ id: user.id });
    }
  });

  it("the account acts with USER rights only, even when an admin gave the account ADMIN", async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await sg.db.user.update({ where: { id: partner.accountId }, data: { roles: 'USER,ADMIN' } });
    expect(codeOf(await post(sg.gatewayUrl, { key, query: '{ users(first: 1) { edges { node { id } } } }' }))).toBe('FORBIDDEN');
  });

  it('unknown, malformed and empty keys are refused and nothing runs; a key works only in its own tenant', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await ensureTenant(sg, 'partners-elsewhere', { name: 'Elsewhere', gateways: gateways() });
    const rename = { query: 'mutation { updateProfile(input: { displayName: "changed" }) { id } }' };
    for (const gatewayUrl of gateways()) {
      for (const bad of [`ffk_${randomBytes(36).toString('base64url')}`, `${key.slice(0, 20)}${'A'.repeat(key.length - 20)}`, 'not-a-key', '']) {
        expectRefused(await post(gatewayUrl, { ...rename, key: bad }));
      }
      expectRefused(await post(gatewayUrl, { key, headers: { 'x-tenant-id': 'partners-elsewhere' } }));
    }
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: partner.accountId } })).displayName).not.toBe('changed');
  });

  it('a bad bearer token next to a good key is refused, never treated as the account', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    expectRefused(await post(sg.gatewayUrl, { key, token: 'not-a-jwt' }));
    expectRefused(await post(sg.gatewayUrl, { key, headers: { authorization: 'Basic abc' } }));
  });

  it('graphql-ws upgrades carrying a key are refused', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(sg.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-api-key': key } });
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('error', () => undefined);
    });
    expect(status).toBe(400);
  });
});

describe('revocation and suspension', () => {
  it('a revoked key is refused on both replicas from the next request on, though both had it cached', async () => {
    const partner = await createPartner(admin);
    const { key, id } = await createKey(admin, partner.id);
    const other = await createKey(admin, partner.id);
    for (const gatewayUrl of gateways()) expect(ok(await post(gatewayUrl, { key })).me.id).toBe(partner.accountId);
    ok(await admin.call(REVOKE_KEY, { id }));
    const rename = { key, query: 'mutation { updateProfile(input: { displayName: "after revocation" }) { id } }' };
    for (const gatewayUrl of gateways()) {
      expectRefused(await post(gatewayUrl, { key }));
      expectRefused(await post(gatewayUrl, rename));
      // The partner's other key keeps working.
      expect(ok(await post(gatewayUrl, { key: other.key })).me.id).toBe(partner.accountId);
    }
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: partner.accountId } })).displayName).not.toBe('after revocation');
  });

  it("a suspended partner's keys are refused on both replicas at once, and work again once it is reactivated", async () => {
    const partner = await createPartner(admin);
    const first = await createKey(admin, partner.id);
    const second = await createKey(admin, partner.id, { requireSignature: true });
    const user = await createAdmin(sg);
    for (const gatewayUrl of gateways()) expect(ok(await post(gatewayUrl, { key: first.key })).me.id).toBe(partner.accountId);
    ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'SUSPENDED' }));
    for (const gatewayUrl of gateways()) {
      expectRefused(await post(gatewayUrl, { key: first.key }));
      // A user's own token does not rescue a suspended partner's key.
      expectRefused(await post(gatewayUrl, { key: first.key, token: user.token }));
      const body = JSON.stringify({ query: '{ me { id } }' });
      expectRefused(await post(gatewayUrl, { key: second.key, body, headers: signatureHeaders(second.secret!, 'POST', '/graphql', body) }));
    }
    ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'ACTIVE' }));
    for (const gatewayUrl of gateways()) expect(ok(await post(gatewayUrl, { key: first.key })).me.id).toBe(partner.accountId);
  });
});

describe("the partner's own account", () => {
  /** One run of the user subgraph's marker sync job (partner revocation/suspension markers from MySQL). */
  const syncMarkers = () => syncPartnerMarkers(sg.db, sg.redis, createLogger({ service: 'partners-test', level: 'silent' }));
  const SET_USER_STATUS = `mutation($id: ID!, $status: UserStatus!) { setUserStatus(userId: $id, status: $status) { id status } }`;

  it("suspended by setUserStatus: the partner's keys are refused on both replicas from the next request on; reactivated, they work again", async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    const user = await createAdmin(sg);
    // Both replicas hold the key's record in memory (PARTNER_KEY_CACHE_SECONDS, 30 s by default).
    for (const gatewayUrl of gateways()) expect(ok(await post(gatewayUrl, { key })).me.id).toBe(partner.accountId);
    ok(await admin.call(SET_USER_STATUS, { id: partner.accountId, status: 'SUSPENDED' }));
    for (const gatewayUrl of gateways()) {
      expectRefused(await post(gatewayUrl, { key }));
      expectRefused(await post(gatewayUrl, { key, token: user.token }));
    }
    // The sync job agrees with MySQL: the marker stays while the account is suspended, and is restored if Redis lost it.
    await sg.redis.del(`partner-suspended:${partner.id}`);
    await syncMarkers();
    for (const gatewayUrl of gateways()) expectRefused(await post(gatewayUrl, { key }));

    ok(await admin.call(SET_USER_STATUS, { id: partner.accountId, status: 'ACTIVE' }));
    for (const gatewayUrl of gateways()) expect(ok(await post(gatewayUrl, { key })).me.id).toBe(partner.accountId);
    // Reactivating the account does not lift a suspension of the partner itself.
    ok(await admin.call(SET_PARTNER_STATUS, { id: partner.id, status: 'SUSPENDED' }));
    ok(await admin.call(SET_USER_STATUS, { id: partner.accountId, status: 'SUSPENDED' }));
    ok(await admin.call(SET_USER_STATUS, { id: partner.accountId, status: 'ACTIVE' }));
    for (const gatewayUrl of gateways()) expectRefused(await post(gatewayUrl, { key }));
  });
});

describe('signed requests', () => {
  let key: string;
  let secret: string;
  let accountId: string;
  beforeAll(async () => {
    const partner = await createPartner(admin);
    const created = await createKey(admin, partner.id, { requireSignature: true });
    key = created.key;
    secret = created.secret!;
    accountId = partner.accountId;
  });
  const body = JSON.stringify({ query: '{ me { id } }' });

  it('a valid signature is accepted on both replicas, POST and GET (path with its query string)', async () => {
    for (const gatewayUrl of gateways()) {
      expect(ok(await post(gatewayUrl, { key, body, headers: signatureHeaders(secret, 'POST', '/graphql', body) })).me.id).toBe(accountId);
      const path = `/graphql?query=${encodeURIComponent('{ me { id } }')}`;
      const response = await fetch(new URL(path, gatewayUrl), { headers: { 'x-api-key': key, 'apollo-require-preflight': 'true', ...signatureHeaders(secret, 'GET', path, '') } });
      expect(((await response.json()) as GraphQLResponse['body']).data?.me?.id).toBe(accountId);
    }
  });

  it('missing, wrong and malformed signatures are refused and nothing runs', async () => {
    const rename = JSON.stringify({ query: 'mutation { updateProfile(input: { displayName: "unsigned" }) { id } }' });
    const good = signatureHeaders(secret, 'POST', '/graphql', rename);
    const cases: Array<Record<string, string>> = [
      {},
      { 'x-firefly-timestamp': good['x-firefly-timestamp']!, 'x-firefly-nonce': good['x-firefly-nonce']! },
      signatureHeaders('another-secret', 'POST', '/graphql', rename),
      signatureHeaders(secret, 'GET', '/graphql', rename),
      signatureHeaders(secret, 'POST', '/graphql?x=1', rename),
      { ...good, 'x-firefly-nonce': 'short' },
      { ...good, 'x-firefly-timestamp': 'yesterday' },
    ];
    for (const gatewayUrl of gateways()) {
      for (const headers of cases) expectRefused(await post(gatewayUrl, { key, body: rename, headers }));
    }
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: accountId } })).displayName).not.toBe('unsigned');
  });

  it('a timestamp more than 300 s away is refused, either way', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) expectRefused(await post(sg.gatewayUrl, { key, body, headers: signatureHeaders(secret, 'POST', '/graphql', body, { timestamp }) }));
    expect(ok(await post(sg.gatewayUrl, { key, body, headers: signatureHeaders(secret, 'POST', '/graphql', body, { timestamp: now - 290 }) })).me.id).toBe(accountId);
  });

  it('a replayed nonce is refused on the same and on the other replica', async () => {
    const headers = signatureHeaders(secret, 'POST', '/graphql', body);
    expect(ok(await post(sg.gatewayUrl, { key, body, headers })).me.id).toBe(accountId);
    expectRefused(await post(sg.gatewayUrl, { key, body, headers }));
    expectRefused(await post(gatewayB.url, { key, body, headers }));
    // A forged request does not use up the nonce it names.
    const nonce = randomBytes(16).toString('base64url');
    expectRefused(await post(gatewayB.url, { key, body, headers: signatureHeaders('forged', 'POST', '/graphql', body, { nonce }) }));
    expect(ok(await post(gatewayB.url, { key, body, headers: signatureHeaders(secret, 'POST', '/graphql', body, { nonce }) })).me.id).toBe(accountId);
  });

  it('an altered body is refused: the signature covers the bytes received, whitespace included', async () => {
    const signed = JSON.stringify({ query: '{ me { id } }' });
    const headers = signatureHeaders(secret, 'POST', '/graphql', signed);
    expectRefused(await post(sg.gatewayUrl, { key, body: JSON.stringify({ query: '{ me { id displayName } }' }), headers }));
    expectRefused(await post(sg.gatewayUrl, { key, body: `${signed} `, headers: signatureHeaders(secret, 'POST', '/graphql', signed) }));
    const spaced = `{ "query" : "{ me { id } }" }`;
    expect(ok(await post(sg.gatewayUrl, { key, body: spaced, headers: signatureHeaders(secret, 'POST', '/graphql', spaced) })).me.id).toBe(accountId);
  });

  it('a key without requireSignature needs no signature', async () => {
    const partner = await createPartner(admin);
    const plain = await createKey(admin, partner.id);
    expect(ok(await post(sg.gatewayUrl, { key: plain.key })).me.id).toBe(partner.accountId);
  });
});

describe('per-key limits and visibility', () => {
  it("a key's own limit is shared by both replicas: RATE_LIMITED with retryAfterSeconds (HTTP 429); other keys keep theirs", async () => {
    const partner = await createPartner(admin);
    const limited = await createKey(admin, partner.id, { rateLimitPerMinute: 4 });
    const other = await createKey(admin, partner.id);
    for (let i = 0; i < 4; i++) expect(ok(await post(gateways()[i % 2]!, { key: limited.key })).me.id).toBe(partner.accountId);
    for (const gatewayUrl of gateways()) {
      const response = await post(gatewayUrl, { key: limited.key });
      expectRefused(response, 'RATE_LIMITED');
      expect(response.status).toBe(429);
      const retryAfter = response.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(Number(response.retryAfter)).toBe(retryAfter);
      expect(ok(await post(gatewayUrl, { key: other.key })).me.id).toBe(partner.accountId);
    }
  });

  it('lastUsedAt is recorded within seconds, without a write per request', async () => {
    const partner = await createPartner(admin);
    const { key, id } = await createKey(admin, partner.id);
    const before = Date.now();
    sg.resetQueryLog();
    // At once, so the count of flushes does not depend on how fast a loaded machine answers one request after another.
    const requests = 20;
    for (const answer of await Promise.all(Array.from({ length: requests }, (_, i) => post(gateways()[i % 2]!, { key })))) ok(answer);
    const lastUsedAt = await eventually(async () => (await sg.db.partnerApiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt, 'lastUsedAt', 10_000, 200);
    expect(lastUsedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    // One write per replica and flush (a flush may fall while the requests arrive), not one per request.
    const writes = sg.queries.filter((q) => /^UPDATE/i.test(q.query) && q.query.includes('PartnerApiKey') && q.params.includes(id));
    expect(writes.length).toBeLessThan(requests / 2);
    const read = ok(await admin.call(`query($id: ID!) { partner(id: $id) { apiKeys { id lastUsedAt } } }`, { id: partner.id })).partner.apiKeys;
    expect(read[0].lastUsedAt).toEqual(expect.any(String));
  });

  it('the access log names the partner and key, and the metrics count requests per partner', async () => {
    const partner = await createPartner(admin);
    const { key, id } = await createKey(admin, partner.id);
    const requestId = `partner-${randomUUID()}`;
    ok(await post(gatewayB.url, { key, headers: { 'x-request-id': requestId } }));
    expect(codeOf(await post(gatewayB.url, { key, query: '{ users(first: 1) { edges { node { id } } } }' }))).toBe('FORBIDDEN');
    const line = await gatewayB.waitForLog((entry) => entry.component === 'access-log' && entry.requestId === requestId);
    expect(line).toMatchObject({ partnerId: partner.id, apiKeyId: id, userId: partner.accountId });
    expect(JSON.stringify(gatewayB.logs)).not.toContain(key);
    expect(await readMetric(gatewayB.origin, 'gateway_partner_requests_total', { partner: partner.id, outcome: 'ok' })).toBe(1);
    expect(await readMetric(gatewayB.origin, 'gateway_partner_requests_total', { partner: partner.id, outcome: 'error' })).toBe(1);
    expect(await readMetric(gatewayB.origin, 'gateway_partner_request_duration_seconds_count', { partner: partner.id })).toBe(2);
  });
});

describe('usage per partner and operation', () => {
  const USAGE = `query($id: ID!, $days: Int) { partner(id: $id) { usage(days: $days) { day operationId operationName actingAs requests errors } } }`;
  const ME = '{ me { id } }';
  const USERS = '{ users(first: 1) { edges { node { id } } } }';

  it('counts what the keys ran on both replicas, as the account and as users with their token, and admins read it', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    const { user } = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const token = await sg.tokenFor({ id: user.id, tenantId: 'default', roles: ['USER'] });
    // As the account: twice by text on one replica, once by id on the other (the same listed operation).
    ok(await post(sg.gatewayUrl, { key, query: ME }));
    ok(await post(sg.gatewayUrl, { key, query: ME }));
    ok(await post(gatewayB.url, { key, body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: operationId(ME) } } }) }));
    // As a user (key + bearer token): twice fine on B, once refused by the field's access rule on A (it ran: it counts, as an error).
    expect(ok(await post(gatewayB.url, { key, token, query: ME })).me).toEqual({ id: user.id });
    ok(await post(gatewayB.url, { key, token, query: ME }));
    expect(codeOf(await post(sg.gatewayUrl, { key, token, query: USERS }))).toBe('FORBIDDEN');
    // Refused before anything ran: not usage.
    expect(codeOf(await post(sg.gatewayUrl, { key, token, query: '{ me { id displayName } }' }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())).toISOString();
    const expected = [
      { day: today, operationId: operationId(ME), operationName: 'anonymous', actingAs: 'ACCOUNT', requests: 3, errors: 0 },
      { day: today, operationId: operationId(ME), operationName: 'anonymous', actingAs: 'USER', requests: 2, errors: 0 },
      { day: today, operationId: operationId(USERS), operationName: 'anonymous', actingAs: 'USER', requests: 1, errors: 1 },
    ];
    const sorted = (rows: Array<Record<string, unknown>>) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    // Each replica sends its counts every PARTNER_LAST_USED_FLUSH_SECONDS (1 s here).
    const usage = await eventually(
      async () => {
        const rows = ok(await admin.call(USAGE, { id: partner.id })).partner.usage as Array<Record<string, unknown>>;
        return rows.reduce((n, row) => n + (row.requests as number), 0) >= 6 ? rows : undefined;
      },
      'both replicas to record the usage',
      20_000,
      200,
    );
    expect(sorted(usage)).toEqual(sorted(expected));
    // Rows are per partner: another partner of the tenant has none.
    const other = await createPartner(admin);
    expect(ok(await admin.call(USAGE, { id: other.id })).partner.usage).toEqual([]);
    // Admins only; days is bounded.
    expect(codeOf(await sg.request(USAGE, { token, variables: { id: partner.id } }))).toBe('FORBIDDEN');
    expect(codeOf(await admin.call(USAGE, { id: partner.id, days: 91 }))).toBe('BAD_USER_INPUT');
  });
});

describe("the partner's account pays", () => {
  it('a chat message sent with the key is charged to the account; admins read its balance and ledger through the partner', async () => {
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    ok(await admin.call(`mutation($id: ID!) { adjustCredits(userId: $id, delta: 500, note: "partner top-up") { available } }`, { id: partner.accountId }));
    const conversation = ok(await post(gatewayB.url, { key, query: CREATE_CONVERSATION, variables: { input: {} } })).createConversation;
    const sent = ok(await post(gatewayB.url, { key, query: SEND_MESSAGE, variables: { input: { conversationId: conversation.id, content: 'Hello from a partner' } } })).sendMessage;
    const charged = await eventually(
      async () => (await sg.db.message.findUniqueOrThrow({ where: { id: sent.assistantMessage.id } })).creditsCharged,
      'the answer to be charged',
      20_000,
      100,
    );
    const usage = ok(
      await admin.call(
        `query($id: ID!) { partner(id: $id) { account { id creditBalance { available } ledger(first: 10) { edges { node { delta reason referenceId } } } } } }`,
        { id: partner.id },
      ),
    ).partner.account;
    expect(usage.creditBalance.available).toBe(500 - charged);
    expect(usage.ledger.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { delta: -charged, reason: 'CHAT_USAGE', referenceId: sent.assistantMessage.id },
      { delta: 500, reason: 'ADJUSTMENT', referenceId: null },
    ]);
  });
});

describe('docs/partners.md', () => {
  /** The first fenced block of `language` after `heading`. */
  async function example(heading: string, language: string): Promise<string> {
    const text = await readFile(new URL('../../../docs/partners.md', import.meta.url), 'utf8');
    const from = text.indexOf(heading);
    const fence = '```';
    const start = text.indexOf(`${fence}${language}\n`, from) + language.length + 4;
    return text.slice(start, text.indexOf(`\n${fence}`, start));
  }

  it('the Node and curl examples sign and call an operation by id as written', async () => {
    const partner = await createPartner(admin);
    const { key, secret } = await createKey(admin, partner.id, { requireSignature: true });
    // `{ me { id } }` is in the partner's list (createPartner above): call it by its id.
    const operationId = createHash('sha256').update('{ me { id } }').digest('hex');
    const dir = await mkdtemp(join(tmpdir(), 'partner-docs-'));
    const env = { ...process.env, FIREFLY_URL: sg.gatewayUrl, FIREFLY_API_KEY: key, FIREFLY_SECRET: secret!, OPERATION_ID: operationId };
    const run = promisify(execFile);

    await writeFile(join(dir, 'partner-call.mjs'), await example('### Node example', 'js'));
    const node = await run(process.execPath, [join(dir, 'partner-call.mjs'), operationId, '{}'], { env, cwd: dir });
    expect(node.stdout.trim()).toBe(`200 ${JSON.stringify({ data: { me: { id: partner.accountId } } })}`);

    const curl = await run('bash', ['-euo', 'pipefail', '-c', await example('### curl example', 'sh')], { env, cwd: dir });
    expect(JSON.parse(curl.stdout)).toEqual({ data: { me: { id: partner.accountId } } });
  });
});
