// The web app's client logic against the real supergraph (harness: real MariaDB, Redis, subgraphs, gateway, the
// DashScope simulator): operations sent by persisted-query id, the token refresh a person never notices, and an
// answer that survives a dropped socket without losing or repeating a token (afterSeq).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createFireflyClient,
  describeError,
  followMessageStream,
  type FireflyClient,
  type KeyValueStorage,
} from '@firefly/web/client';
import manifest from '@firefly/web/persisted-query-manifest.json' with { type: 'json' };
import {
  ConversationMessagesDocument,
  ConversationsDocument,
  CreateConversationDocument,
  CreditBalanceDocument,
  RegisterDocument,
  SendMessageDocument,
  StopGenerationDocument,
  ViewerDocument,
} from '../../../apps/web/src/generated/graphql/graphql.ts';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { waitFor } from '../../src/chat-helpers.ts';
import { endGraceWindow, STRONG_PASSWORD, uniqueEmail, uniqueIp } from '../../src/identity-helpers.ts';

let sg: Supergraph;
const clients: FireflyClient[] = [];

beforeAll(async () => {
  // Slow tokens so that a socket can be dropped while the answer is still being written.
  sg = await startSupergraph({ simulator: { tokenDelayMs: 40 } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await sg?.stop();
});

interface SentRequest {
  operationName: string;
  hasQueryText: boolean;
  hash?: string;
  authorization?: string;
  /** The gateway did not know the id yet (APQ): the link sends the text next. */
  notFound?: boolean;
}

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

/** A web client as the app builds it, with its own client IP and a log of what it sent over HTTP. */
function newClient(options: { storage?: KeyValueStorage; now?: () => number; onSocketState?: (state: 'connected' | 'closed') => void } = {}) {
  const sent: SentRequest[] = [];
  const ip = uniqueIp();
  const client = createFireflyClient({
    httpUrl: sg.gatewayUrl,
    wsUrl: sg.gatewayUrl.replace(/^http/, 'ws'),
    storage: options.storage ?? memoryStorage(),
    manifest,
    webSocketImpl: WebSocket,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onSocketState ? { onSocketState: options.onSocketState } : {}),
    fetch: async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { operationName: string; query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } };
      const headers = new Headers(init?.headers);
      sent.push({
        operationName: body.operationName,
        hasQueryText: typeof body.query === 'string',
        ...(body.extensions?.persistedQuery ? { hash: body.extensions.persistedQuery.sha256Hash } : {}),
        ...(headers.get('authorization') ? { authorization: headers.get('authorization')! } : {}),
      });
      headers.set('x-forwarded-for', ip);
      const response = await fetch(input, { ...init, headers });
      if ((await response.clone().text()).includes('PERSISTED_QUERY_NOT_FOUND')) sent.at(-1)!.notFound = true;
      return response;
    },
  });
  clients.push(client);
  return { client, sent };
}

async function signUp(client: FireflyClient) {
  const { data } = await client.apollo.mutate({
    mutation: RegisterDocument,
    variables: { input: { email: uniqueEmail('web'), password: STRONG_PASSWORD, displayName: 'Web Tester' } },
    context: { anonymous: true },
  });
  client.session.signIn(data!.register);
  return data!.register.user;
}

const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;

describe('persisted queries', () => {
  it('sends operations by their manifest id, and the text only once when the gateway has not seen the id yet', async () => {
    const first = newClient();
    const user = await signUp(first.client);
    const viewer = await first.client.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
    expect(viewer.data?.me?.id).toBe(user.id);

    const viewerRequests = first.sent.filter((r) => r.operationName === 'Viewer');
    expect(viewerRequests.every((r) => r.hash === idOf('Viewer'))).toBe(true);

    // Now the gateway knows the id: a second client's Viewer goes by id alone, in one request.
    const second = newClient({ storage: memoryStorage() });
    const tokens = first.client.session.current()!;
    second.client.session.signIn({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: 900 });
    const again = await second.client.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
    expect(again.data?.me?.id).toBe(user.id);
    expect(second.sent.filter((r) => r.operationName === 'Viewer')).toEqual([
      expect.objectContaining({ hash: idOf('Viewer'), hasQueryText: false }),
    ]);
  });
});

describe('token refresh', () => {
  it('replaces a refused access token once, replays the requests, and the person sees only answers', async () => {
    const storage = memoryStorage();
    const { client, sent } = newClient({ storage });
    const user = await signUp(client);
    const signedIn = client.session.current()!;

    // The server stops accepting the stored access token (as after a key rotation or an expiry the clock missed).
    storage.setItem('firefly.session', JSON.stringify({ ...signedIn, accessToken: `${signedIn.accessToken}x` }));
    const [a, b, c] = await Promise.all([
      client.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' }),
      client.apollo.query({ query: CreditBalanceDocument, fetchPolicy: 'network-only' }),
      client.apollo.query({ query: ConversationsDocument, fetchPolicy: 'network-only' }),
    ]);
    expect(a.data?.me?.id).toBe(user.id);
    expect(b.data?.me?.creditBalance.available).toBe(100);
    expect(c.data?.conversations.edges).toEqual([]);
    // Three refused requests, one refresh: a second refresh would present a used refresh token and end the session.
    expect(sent.filter((r) => r.operationName === 'RefreshSession' && !r.notFound)).toHaveLength(1);
    expect(sent.find((r) => r.operationName === 'RefreshSession')?.authorization).toBeUndefined();
    const now = client.session.current()!;
    expect(now.refreshToken).not.toBe(signedIn.refreshToken);
  });

  it('refreshes before the access token expires, so no request carries an expired token', async () => {
    let clock = Date.now();
    const { client, sent } = newClient({ now: () => clock });
    await signUp(client);
    const before = client.session.current()!;
    clock = before.expiresAt - 30_000; // inside the refresh margin
    await client.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
    const names = sent.map((r) => r.operationName);
    // The refresh goes out before the query, and the query is sent once, with the new token.
    expect(names.slice(-2).filter((n) => n === 'RefreshSession' || n === 'Viewer')).toEqual(['RefreshSession', 'Viewer']);
    expect(sent.filter((r) => r.operationName === 'Viewer' && r.authorization === `Bearer ${before.accessToken}`)).toEqual([]);
  });

  it('ends the session, without a loop, when the refresh token was already used elsewhere', async () => {
    const storage = memoryStorage();
    const { client } = newClient({ storage });
    await signUp(client);
    const stolen = client.session.current()!;
    // Another device presents the same refresh token first: the server rotates it, so ours is now a reused one.
    const other = newClient();
    other.client.session.signIn({ accessToken: stolen.accessToken, refreshToken: stolen.refreshToken, expiresIn: 900 });
    expect(await other.client.session.refresh()).toBeTruthy();
    // A second refresh within the grace window gets the same new pair (two tabs); past it, reuse ends the session.
    await endGraceWindow(sg, stolen.refreshToken);

    const ended: string[] = [];
    client.session.subscribe((_tokens, reason) => ended.push(reason));
    expect(await client.session.refresh()).toBeNull();
    expect(ended).toEqual(['ended']);
    expect(client.session.current()).toBeNull();
    // Reuse ends the whole session, the other device's new tokens included.
    const afterReuse = await other.client.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' }).catch((error: unknown) => error);
    expect(describeError(afterReuse)).toEqual({ kind: 'unauthenticated' });
  });
});

describe('streaming an answer', () => {
  async function startAnswer(client: FireflyClient, content: string) {
    const conversation = await client.apollo.mutate({ mutation: CreateConversationDocument, variables: { input: {} } });
    const sent = await client.apollo.mutate({ mutation: SendMessageDocument, variables: { input: { conversationId: conversation.data!.createConversation.id, content } } });
    return { conversationId: conversation.data!.createConversation.id, messageId: sent.data!.sendMessage.assistantMessage.id };
  }

  it('resumes after a dropped socket with afterSeq: every token exactly once, in order', async () => {
    const { client } = newClient();
    await signUp(client);
    const { messageId } = await startAnswer(client, 'Tell me a long story about fireflies in the summer night.');

    const seqs: number[] = [];
    let text = '';
    const reconnects: number[] = [];
    const done = new Promise<{ content: string; status: string }>((resolve, reject) => {
      followMessageStream(client.apollo, messageId, {
        onDelta(delta, seq) {
          seqs.push(seq);
          text += delta;
          // Drop the socket twice while the answer is being written.
          if (seq === 3 || seq === 9) client.ws.terminate();
        },
        onDone: (message) => resolve({ content: message!.content, status: message!.status }),
        onError: reject,
        onReconnecting: (_attempt, afterSeq) => reconnects.push(afterSeq),
      }, { backoffMs: () => 20 });
    });
    const final = await done;
    expect(final.status).toBe('COMPLETED');
    // Resumed after what was shown (an event already in flight when the socket dropped may have arrived first).
    expect(reconnects).toHaveLength(2);
    expect(reconnects[0]).toBeGreaterThanOrEqual(3);
    expect(reconnects[1]).toBeGreaterThanOrEqual(9);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(text).toBe(final.content);
  });

  it("follows the next answer on the socket of the last one (no new connection per message)", async () => {
    const states: string[] = [];
    const { client } = newClient({ onSocketState: (state) => states.push(state) });
    await signUp(client);
    const follow = (messageId: string) =>
      new Promise<string>((resolve, reject) => {
        followMessageStream(client.apollo, messageId, { onDelta: () => undefined, onDone: (message) => resolve(message!.status), onError: reject });
      });
    const first = await startAnswer(client, 'A short answer, please.');
    expect(await follow(first.messageId)).toBe('COMPLETED');
    const second = await startAnswer(client, 'And another one.');
    expect(await follow(second.messageId)).toBe('COMPLETED');
    expect(states).toEqual(['connected']);
  });

  it('stops a generation: the partial answer is kept and the stream ends STOPPED', async () => {
    const { client } = newClient();
    await signUp(client);
    const { conversationId, messageId } = await startAnswer(client, 'Please write a very long answer.');
    let text = '';
    const done = new Promise<string>((resolve, reject) => {
      followMessageStream(client.apollo, messageId, {
        onDelta(delta, seq) {
          text += delta;
          if (seq === 2) void client.apollo.mutate({ mutation: StopGenerationDocument, variables: { messageId } });
        },
        onDone: (message) => resolve(message!.status),
        onError: reject,
      });
    });
    expect(await done).toBe('STOPPED');
    const stored = await waitFor(async () => {
      const { data } = await client.apollo.query({ query: ConversationMessagesDocument, variables: { id: conversationId }, fetchPolicy: 'network-only' });
      const message = data?.conversation?.messages.edges.find((e) => e.node.id === messageId)?.node;
      return message?.status === 'STOPPED' ? message : undefined;
    });
    expect(stored.content).toBe(text);
  });
});
