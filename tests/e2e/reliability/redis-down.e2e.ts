// Redis unreachable (issue 10, item 5): every process answers at once with UPSTREAM_UNAVAILABLE naming redis and
// says 503 on /readyz, nothing hangs; when Redis is back everything works again without a restart. Redis is taken
// away by a TCP proxy in front of the real one (every connection reset, new ones refused), which is what a process
// sees when Redis crashed or the network to it broke.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { callSubgraph } from '../../src/chat-helpers.ts';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { clientOf, LOGIN, ME, registerWithEmail, STRONG_PASSWORD } from '../../src/identity-helpers.ts';
import { createAdmin, createKey, createPartner, publishList } from '../../src/partner-helpers.ts';
import { startTcpProxy, type TcpProxy } from '../../src/tcp-proxy.ts';

let proxy: TcpProxy;
let sg: Supergraph;

beforeAll(async () => {
  proxy = await startTcpProxy(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  sg = await startSupergraph({ redisUrl: proxy.url });
}, 180_000);
afterAll(async () => {
  proxy?.setDown(false);
  await sg?.stop();
  await proxy?.close();
});

type Process = 'gateway' | 'user' | 'conversation' | 'image' | 'billing';

function readyzOf(process: Process): string {
  const url = process === 'gateway' ? sg.gatewayUrl : sg.subgraphUrls[process];
  return new URL('/readyz', url).toString();
}

async function readiness(process: Process): Promise<{ status: number; redis: boolean | undefined; redisError: string | undefined }> {
  const response = await fetch(readyzOf(process));
  const body = (await response.json()) as { checks: Array<{ name: string; ok: boolean; error?: string }> };
  const redis = body.checks.find((check) => check.name === 'redis');
  return { status: response.status, redis: redis?.ok, redisError: redis?.error };
}

/**
 * What a fail-fast client says at once while Redis is unreachable (ioredis's own words). A client that queued the
 * PING instead would fail later with "Command timed out" or be cut by /readyz's own 2 s bound ("timed out after").
 */
const REFUSED_AT_ONCE = /^(Stream isn't writeable|Connection is closed|Reached the max retries per request limit)/;

function firstError(response: GraphQLResponse): Record<string, unknown> | undefined {
  return response.body.errors?.[0]?.extensions;
}

const PROCESSES: Process[] = ['gateway', 'user', 'conversation', 'image', 'billing'];

describe('Redis down', () => {
  it('every process fails fast with UPSTREAM_UNAVAILABLE (service redis) and /readyz 503, then recovers by itself', { timeout: 120_000 }, async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const identity: Identity = { kind: 'user', tenantId: 'default', requestId: randomUUID(), userId: account.user.id, roles: ['USER'], sessionId: randomUUID() };
    // Straight to each subgraph with the gateway's credential: a mutation (every one counts in the Redis rate limit).
    const subgraphCalls = {
      conversation: () => callSubgraph(sg.subgraphUrls.conversation, sg.internalTokenSecret, identity, 'mutation { createConversation(input: {}) { id } }'),
      billing: () => callSubgraph(sg.subgraphUrls.billing, sg.internalTokenSecret, identity, `mutation { cancelOrder(id: "${randomUUID()}") { id } }`),
      image: () => callSubgraph(sg.subgraphUrls.image, sg.internalTokenSecret, identity, `mutation { deleteImage(id: "${randomUUID()}") }`),
    };
    // A partner's API key, used once while Redis answers so the gateway holds the key; its per-request checks (nonce,
    // revocation and suspension markers, rate) are in Redis.
    const admin = await createAdmin(sg);
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await publishList(admin, partner.id, ['{ me { id } }']);
    const withKey = async (): Promise<GraphQLResponse> => {
      const response = await fetch(sg.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query: '{ me { id } }' }) });
      return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
    };
    expect((await withKey()).body.data).toEqual({ me: { id: partner.accountId } });
    const throughGateway = {
      // The gateway checks a partner key's markers in Redis.
      partnerKey: withKey,
      // The gateway checks the session in Redis.
      me: () => client.call(ME, undefined, account.accessToken),
      // The user subgraph counts sign-in attempts and stores the session in Redis.
      login: () => client.call(LOGIN, { input: { login: account.email, password: STRONG_PASSWORD } }),
    };

    for (const process of PROCESSES) expect((await readiness(process)).status, process).toBe(200);
    expect((await throughGateway.me()).body.data?.me?.id).toBe(account.user.id);

    proxy.setDown(true);
    // Long enough for ioredis's reconnect delay to grow: a client that queued commands while reconnecting would now
    // hold each one for seconds (3 reconnection attempts) instead of failing it.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    for (const process of PROCESSES) {
      const ready = await readiness(process);
      expect(ready, process).toMatchObject({ status: 503, redis: false });
      // Failed at once by the client, not after a wait (a wall-clock bound here broke on a loaded machine).
      expect(ready.redisError, process).toMatch(REFUSED_AT_ONCE);
    }
    for (const [name, call] of Object.entries({ ...throughGateway, ...subgraphCalls })) {
      const response = await call();
      // Refused at once by the client (`unreachable`: not connected, nothing queued), not after waiting — neither for
      // a reconnection attempt (`connection_lost`) nor for the command timeout (`timeout`). A wall-clock bound here
      // (1,500 ms) broke on a loaded machine; which way the command failed is the fact that matters.
      expect(firstError(response), name).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', service: 'redis', reason: 'unreachable' });
      expect(JSON.stringify(response.body), name).not.toMatch(/stack|Stream isn't writeable|ioredis/i);
    }

    proxy.setDown(false);
    // ioredis reconnects on its own (at most every 2 s): no process is restarted.
    await expect
      .poll(async () => Promise.all(PROCESSES.map(async (process) => (await readiness(process)).status)), { timeout: 15_000, interval: 250 })
      .toEqual(PROCESSES.map(() => 200));
    expect((await throughGateway.me()).body.data?.me?.id).toBe(account.user.id);
    expect((await withKey()).body.data).toEqual({ me: { id: partner.accountId } });
    const login = await throughGateway.login();
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.user.id).toBe(account.user.id);
    const created = await subgraphCalls.conversation();
    expect(created.body.errors).toBeUndefined();
    expect(firstError(await subgraphCalls.billing())?.code).toBe('NOT_FOUND');
    expect(firstError(await subgraphCalls.image())?.code).toBe('NOT_FOUND');
  });
});
