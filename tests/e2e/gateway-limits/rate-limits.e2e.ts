// Rate limits with counters in Redis: a mutation's per-user limit (the subgraph's @rateLimit) and the gateway's
// per-user limit hold across two gateway replicas and two conversation replicas; anonymous traffic per client IP;
// graphql-ws sockets per client IP, the connection_init deadline and the subscribe rate. Windows are long (10 min)
// and limits small, so nothing depends on timing.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicJwks } from '@firefly/auth';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { CREATE_CONVERSATION, createChatUser } from '../../src/chat-helpers.ts';
import { startConversationReplica, type ConversationReplica } from '../../src/chat-replica.ts';
import { startProcess, type ManagedProcess } from '../../src/subscription-processes.ts';

const LIMITS = {
  CONVERSATION_RATE_LIMITS: 'Mutation.createConversation=4/600',
  RATE_LIMIT_PER_USER: '8/600',
  RATE_LIMIT_ANONYMOUS_PER_IP: '5/600',
  SUBSCRIPTION_MAX_CONNECTIONS_PER_IP: '3',
  SUBSCRIPTION_START_RATE_PER_USER: '3/600',
  SUBSCRIPTION_CONNECTION_INIT_TIMEOUT_MS: '1000',
};

let sg: Supergraph;
let conversationB: ConversationReplica;
let gatewayB: ManagedProcess;

beforeAll(async () => {
  sg = await startSupergraph({ env: LIMITS });
  conversationB = await startConversationReplica(sg, { CONVERSATION_RATE_LIMITS: LIMITS.CONVERSATION_RATE_LIMITS });
  // Gateway B: its own process (src/main.ts), routing conversation fields to replica B, the rest to the harness's subgraphs.
  gatewayB = await startProcess('gateway-b', 'gateway/src/main.ts', {
    ...LIMITS,
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
    CONVERSATION_SUBGRAPH_URL: conversationB.url,
    IMAGE_SUBGRAPH_URL: sg.subgraphUrls.image,
    BILLING_SUBGRAPH_URL: sg.subgraphUrls.billing,
  });
}, 120_000);

afterAll(async () => {
  await gatewayB?.stop();
  await conversationB?.kill('SIGTERM');
  await sg?.stop();
});

async function post(gatewayUrl: string, query: string, options: { token?: string; ip?: string; variables?: Record<string, unknown> } = {}) {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.ip ? { 'x-forwarded-for': options.ip } : {}),
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GraphQLResponse['body'] };
}

function expectLimited(response: { body: GraphQLResponse['body'] }): number {
  const error = response.body.errors?.[0];
  expect(error?.extensions?.code, JSON.stringify(response.body)).toBe('RATE_LIMITED');
  const retryAfter = error?.extensions?.retryAfterSeconds as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
  return retryAfter;
}

let lastIp = 0;
/** A client address of its own for each use (TRUST_PROXY=loopback lets the test set it with X-Forwarded-For). */
const uniqueIp = () => `203.0.113.${++lastIp}`;
const gateways = () => [sg.gatewayUrl, gatewayB.url];

describe('per-user limits across replicas', () => {
  it("a mutation's limit holds across two gateways and two conversation replicas; other users keep theirs", async () => {
    const user = await createChatUser(sg, 10);
    const other = await createChatUser(sg, 10);
    const create = (gatewayUrl: string, token: string) => post(gatewayUrl, CREATE_CONVERSATION, { token, variables: { input: {} } });
    // Alternating A, B, A, B: gateway A sends to the harness's conversation subgraph, gateway B to replica B.
    for (let i = 0; i < 4; i++) {
      const response = await create(gateways()[i % 2]!, user.token);
      expect(response.body.errors, JSON.stringify(response.body)).toBeUndefined();
    }
    for (const gatewayUrl of gateways()) expectLimited(await create(gatewayUrl, user.token));
    expect(await sg.db.conversation.count({ where: { userId: user.id } })).toBe(4);
    expect((await create(gatewayB.url, other.token)).body.errors).toBeUndefined();
  });

  it("the gateway's overall per-user limit is shared by both gateways: HTTP 429 with Retry-After past it", async () => {
    const user = await createChatUser(sg, 0);
    for (let i = 0; i < 8; i++) {
      const response = await post(gateways()[i % 2]!, '{ me { id } }', { token: user.token });
      expect(response.body.data?.me?.id, JSON.stringify(response.body)).toBe(user.id);
    }
    for (const gatewayUrl of gateways()) {
      const limited = await post(gatewayUrl, '{ me { id } }', { token: user.token });
      expect(limited.status).toBe(429);
      expect(limited.body.data).toBeUndefined();
      expect(Number(limited.retryAfter)).toBe(expectLimited(limited));
    }
  });
});

describe('anonymous traffic per client IP', () => {
  it('refuses the request past the limit with 429 and Retry-After, on both gateways, and spares other addresses and signed-in users', async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 5; i++) {
      const response = await post(gateways()[i % 2]!, '{ chatModels { id } }', { ip });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    for (const gatewayUrl of gateways()) {
      const limited = await post(gatewayUrl, '{ chatModels { id } }', { ip });
      expect(limited.status).toBe(429);
      expect(limited.body.data).toBeUndefined();
      expect(Number(limited.retryAfter)).toBe(expectLimited(limited));
    }
    expect((await post(sg.gatewayUrl, '{ chatModels { id } }', { ip: uniqueIp() })).status).toBe(200);
    const user = await createChatUser(sg, 0);
    expect((await post(sg.gatewayUrl, '{ me { id } }', { ip, token: user.token })).status).toBe(200);
  });
});

/** A raw graphql-transport-ws socket from `ip`; resolves once open, or with the HTTP status of a refused upgrade. */
function openSocket(gatewayUrl: string, ip: string): Promise<{ socket: WebSocket; closed: Promise<number>; messages: Array<Record<string, any>> } | { refused: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-forwarded-for': ip } });
    const messages: Array<Record<string, any>> = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, any>));
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    socket.once('open', () => resolve({ socket, closed, messages }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ refused: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] as string | undefined });
      response.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graphql-ws limits', () => {
  it('caps open sockets per client IP (429 on the upgrade) and frees a place when one closes', async () => {
    const ip = uniqueIp();
    const open = [];
    for (let i = 0; i < 3; i++) {
      const opened = await openSocket(sg.gatewayUrl, ip);
      if (!('socket' in opened)) throw new Error(`upgrade ${i} refused with ${opened.refused}`);
      open.push(opened);
    }
    const refused = await openSocket(sg.gatewayUrl, ip);
    expect(refused).toMatchObject({ refused: 429 });
    expect(Number((refused as { retryAfter?: string }).retryAfter)).toBeGreaterThan(0);
    // Another address is not affected.
    const elsewhere = await openSocket(sg.gatewayUrl, uniqueIp());
    expect('socket' in elsewhere).toBe(true);
    if ('socket' in elsewhere) elsewhere.socket.close();

    open[0]!.socket.close();
    await open[0]!.closed;
    let reopened: Awaited<ReturnType<typeof openSocket>> | undefined;
    // The server sees the close a moment after the client does.
    const deadline = Date.now() + 5_000;
    do {
      reopened = await openSocket(sg.gatewayUrl, ip);
      if ('socket' in reopened) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect('socket' in reopened!).toBe(true);
    for (const socket of [...open.slice(1), reopened]) if (socket && 'socket' in socket) socket.socket.close();
  });

  it('closes a socket that sends no connection_init within the deadline (4408)', async () => {
    const opened = await openSocket(sg.gatewayUrl, uniqueIp());
    if (!('socket' in opened)) throw new Error('upgrade refused');
    expect(await opened.closed).toBe(4408);
  });

  it('limits the subscriptions a user starts (RATE_LIMITED with retryAfterSeconds), counted across both gateways', async () => {
    const user = await createChatUser(sg, 0);
    const subscribeOn = async (gatewayUrl: string) => {
      const opened = await openSocket(gatewayUrl, uniqueIp());
      if (!('socket' in opened)) throw new Error('upgrade refused');
      opened.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
      await until(() => opened.messages.find((m) => m.type === 'connection_ack'), 'connection_ack');
      const id = randomUUID();
      opened.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription($id: ID!) { messageStream(messageId: $id) { seq } }', variables: { id: randomUUID() } } }));
      const answer = await until(() => opened.messages.find((m) => m.id === id && (m.type === 'error' || m.type === 'next')), 'an answer to subscribe');
      opened.socket.close();
      return answer;
    };
    // Each start is counted whatever its outcome (here NOT_FOUND: the message does not exist).
    for (let i = 0; i < 3; i++) {
      const answer = await subscribeOn(gateways()[i % 2]!);
      const errors = (answer.type === 'error' ? answer.payload : answer.payload.errors) as Array<{ extensions: { code: string } }>;
      expect(errors[0]!.extensions.code, JSON.stringify(answer)).not.toBe('RATE_LIMITED');
    }
    for (const gatewayUrl of gateways()) {
      const limited = await subscribeOn(gatewayUrl);
      expect(limited.type).toBe('error');
      expect(limited.payload[0].extensions.code).toBe('RATE_LIMITED');
      expect(limited.payload[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
    }
  });
});
