// Redis failing between the user subgraph's MySQL write and its Redis write (issue 14): the change must still reach
// every gateway replica. The user subgraph reaches the real Redis through a TCP proxy that the test takes down (every
// connection reset, new ones refused — what a process sees when Redis crashed or the network to it broke), while the
// two gateway replicas keep theirs. Covered: a publish whose copy to Redis fails (stored in MySQL, copied and announced
// by the sync job once Redis answers), a reactivation whose marker removal fails (MySQL decides; the marker sync
// removes the marker), a revocation while Redis is down (refused whole: nothing changes, the admin is told), and
// markers Redis lost (written again from MySQL by the marker sync, well before the gateways' key cache expires).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationId } from '@firefly/persisted-queries';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { eventually, readMetric } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';
import { startTcpProxy, type TcpProxy } from '../../src/tcp-proxy.ts';

const ME = '{ me { id } }';
const MODELS = '{ chatModels { id } }';

let proxy: TcpProxy;
let stack: Stack;
let adminToken: string;

beforeAll(async () => {
  proxy = await startTcpProxy(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  stack = await startStack({
    services: ['billing', 'user', 'conversation'],
    gateways: 2,
    serviceEnv: { user: { REDIS_URL: proxy.url, PERSISTED_QUERY_LIST_SYNC_SECONDS: '1', PARTNER_MARKER_SYNC_SECONDS: '1' } },
    // Far longer than the test waits: what the gateways do here, they do because of Redis, not because a cache expired.
    gatewayEnv: { PARTNER_KEY_CACHE_SECONDS: '600' },
    readyTimeoutMs: 180_000,
  });
  const { user } = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await stack.db.user.update({ where: { id: user.id }, data: { roles: 'USER,ADMIN' } });
  adminToken = (await stack.tokenFor({ ...user, roles: ['USER', 'ADMIN'] })).token;
}, 400_000);
afterAll(async () => {
  proxy?.setDown(false);
  await stack?.stop();
  await proxy?.close();
});

async function admin(query: string, variables: Record<string, unknown> = {}) {
  return (await stack.request(query, { variables, token: adminToken })).body as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}
async function adminOk(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const answer = await admin(query, variables);
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  return answer.data!;
}

const manifestOf = (...bodies: string[]) => ({
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: bodies.map((body, index) => ({ id: operationId(body), name: `Operation${index + 1}`, type: 'query', body })),
});
const PUBLISH = `mutation($id: ID!, $manifest: JSON!) { publishPersistedQueries(partnerId: $id, manifest: $manifest) { version } }`;

async function newPartner(): Promise<{ id: string; key: string; keyId: string }> {
  const id = (await adminOk(`mutation { createPartner(input: { name: "Redis failure" }) { id } }`)).createPartner.id as string;
  const created = (await adminOk(`mutation($id: ID!) { createPartnerApiKey(partnerId: $id) { key apiKey { id } } }`, { id })).createPartnerApiKey;
  await adminOk(PUBLISH, { id, manifest: manifestOf(ME, MODELS) });
  return { id, key: created.key, keyId: created.apiKey.id };
}

/** The error code (or 'ok') of running a listed operation by id with the key on one replica. */
async function runById(gateway: number, key: string, body: string): Promise<string> {
  const response = await fetch(stack.httpUrl(gateway), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: operationId(body) } } }),
  });
  const answer = (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
  return answer.errors?.[0]?.extensions?.code ?? (answer.data ? 'ok' : 'no data');
}
const onBoth = async (key: string, body: string) => [await runById(0, key, body), await runById(1, key, body)];
const heldVersion = (gateway: number, partner: string) => readMetric(stack.gateways[gateway]!.origin, 'gateway_persisted_query_list_version', { partner });

describe('Redis failing between the MySQL write and the Redis write', () => {
  it('a publish is stored while the copy to Redis fails, and reaches both replicas once Redis answers again', { timeout: 120_000 }, async () => {
    const partner = await newPartner();
    for (const gateway of [0, 1]) await eventually(async () => (await heldVersion(gateway, partner.id)) === 1, `replica ${gateway} to hold version 1`, 10_000, 100);
    const WIDER = '{ chatModels { id name } }';
    expect(await onBoth(partner.key, WIDER)).toEqual(['PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_FOUND']);

    proxy.setDown(true);
    try {
      // MySQL takes the list (the answer says so); the copy to Redis and the announcement fail.
      expect((await adminOk(PUBLISH, { id: partner.id, manifest: manifestOf(ME, MODELS, WIDER) })).publishPersistedQueries).toEqual({ version: 2 });
      expect((await stack.db.persistedQueryList.findUniqueOrThrow({ where: { partnerId: partner.id } })).version).toBe(2);
      await stack.services.user![0]!.waitForLog((line) => line.msg?.includes('stored but not yet shared') === true && line.partnerId === partner.id, 10_000);
      // Nothing reached the replicas: they keep the list they hold, and their Redis does not know version 2 either.
      for (const gateway of [0, 1]) expect(await heldVersion(gateway, partner.id)).toBe(1);
      expect(await onBoth(partner.key, WIDER)).toEqual(['PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_FOUND']);
      expect(await onBoth(partner.key, ME)).toEqual(['ok', 'ok']);
    } finally {
      proxy.setDown(false);
    }

    // The sync job (every second here) copies version 2 from MySQL and announces it; both replicas load it.
    for (const gateway of [0, 1]) await eventually(async () => (await heldVersion(gateway, partner.id)) === 2, `replica ${gateway} to hold version 2`, 30_000, 100);
    expect(await onBoth(partner.key, WIDER)).toEqual(['ok', 'ok']);
  });

  it('a reactivation whose marker removal fails stands, and the marker sync lets the keys in on both replicas once Redis answers', { timeout: 120_000 }, async () => {
    const partner = await newPartner();
    expect(await onBoth(partner.key, ME)).toEqual(['ok', 'ok']);
    await adminOk(`mutation($id: ID!) { setPartnerStatus(partnerId: $id, status: SUSPENDED) { status } }`, { id: partner.id });
    expect(await onBoth(partner.key, ME)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);

    proxy.setDown(true);
    try {
      // MySQL says ACTIVE (the answer too); the suspension marker could not be removed, so the keys stay refused.
      expect((await adminOk(`mutation($id: ID!) { setPartnerStatus(partnerId: $id, status: ACTIVE) { status } }`, { id: partner.id })).setPartnerStatus).toEqual({ status: 'ACTIVE' });
      expect((await stack.db.partner.findUniqueOrThrow({ where: { id: partner.id } })).status).toBe('ACTIVE');
      expect(await onBoth(partner.key, ME)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    } finally {
      proxy.setDown(false);
    }
    await eventually(async () => (await onBoth(partner.key, ME)).every((code) => code === 'ok'), 'both replicas to accept the reactivated partner', 30_000, 200);
  });

  it('a revocation while Redis is down is refused whole (the key is not revoked anywhere), and works once Redis is back', { timeout: 120_000 }, async () => {
    const partner = await newPartner();
    expect(await onBoth(partner.key, ME)).toEqual(['ok', 'ok']);
    proxy.setDown(true);
    let refused;
    try {
      refused = await admin(`mutation($id: ID!) { revokePartnerApiKey(id: $id) { revokedAt } }`, { id: partner.keyId });
    } finally {
      proxy.setDown(false);
    }
    // The marker is written first: Redis down refuses the change, and MySQL agrees that nothing happened.
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await stack.db.partnerApiKey.findUniqueOrThrow({ where: { id: partner.keyId } })).revokedAt).toBeNull();
    expect(await onBoth(partner.key, ME)).toEqual(['ok', 'ok']);
    // "Once Redis is back" means once the user subgraph's own client has reconnected: ioredis retries with a growing
    // delay (up to 2 s) and its commands fail at once until then. On a loaded machine the reads above can finish
    // before that reconnection (failed once at load 24): wait for the subgraph's /readyz to say Redis answers.
    await eventually(async () => (await fetch(new URL('/readyz', stack.services.user![0]!.origin))).ok, 'the user subgraph to reach Redis again', 30_000, 100);
    await adminOk(`mutation($id: ID!) { revokePartnerApiKey(id: $id) { revokedAt } }`, { id: partner.keyId });
    expect(await onBoth(partner.key, ME)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
  });

  it('revocation and suspension markers Redis lost are written again from MySQL, so both replicas refuse again', { timeout: 120_000 }, async () => {
    const revoked = await newPartner();
    const suspended = await newPartner();
    expect([...(await onBoth(revoked.key, ME)), ...(await onBoth(suspended.key, ME))]).toEqual(['ok', 'ok', 'ok', 'ok']);
    await adminOk(`mutation($id: ID!) { revokePartnerApiKey(id: $id) { revokedAt } }`, { id: revoked.keyId });
    await adminOk(`mutation($id: ID!) { setPartnerStatus(partnerId: $id, status: SUSPENDED) { status } }`, { id: suspended.id });
    expect([...(await onBoth(revoked.key, ME)), ...(await onBoth(suspended.key, ME))]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);

    // What a Redis restart without persistence leaves: no markers. The gateways still hold both keys as active
    // (PARTNER_KEY_CACHE_SECONDS is 600 here), so only the markers can refuse them.
    await stack.redis.del(`partner-key-revoked:${revoked.keyId}`, `partner-suspended:${suspended.id}`);
    await eventually(
      async () => [...(await onBoth(revoked.key, ME)), ...(await onBoth(suspended.key, ME))].every((code) => code === 'UNAUTHENTICATED'),
      'both replicas to refuse the revoked key and the suspended partner again',
      30_000,
      100,
    );
    expect(await stack.redis.exists(`partner-key-revoked:${revoked.keyId}`, `partner-suspended:${suspended.id}`)).toBe(2);
  });
});
