// Shared pieces of the chat e2e scenarios (tests/e2e/chat/): users with credits, mutations through the
// gateway, and messageStream through the conversation subgraph's own graphql-ws, authenticated with a credential
// signed with the run's internal secret (exactly what the gateway will send on its upstream leg).
import { randomUUID } from 'node:crypto';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { expect } from 'vitest';
import { CREDENTIAL_HEADER, CREDENTIAL_PARAM, createCredentialSigner, type Identity } from '@firefly/auth';
import type { Db } from '@firefly/db';
import { seedUserWithHistory } from './fixtures.ts';
import type { GraphQLResponse, Supergraph } from './harness.ts';

const MESSAGE_FIELDS = 'id role content status finishReason error errorCode creditsCharged usage { inputTokens outputTokens totalTokens } createdAt';

export const CREATE_CONVERSATION = `mutation Create($input: CreateConversationInput!) {
  createConversation(input: $input) { id title systemPrompt model { id maxInputTokens maxOutputTokens } parameters { temperature topP maxTokens enableSearch } }
}`;
export const UPDATE_CONVERSATION = `mutation Update($id: ID!, $input: UpdateConversationInput!) {
  updateConversation(id: $id, input: $input) { id title systemPrompt model { id } parameters { temperature topP maxTokens enableSearch } }
}`;
export const DELETE_CONVERSATION = `mutation Delete($id: ID!) { deleteConversation(id: $id) }`;
export const SEND_MESSAGE = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { userMessage { ${MESSAGE_FIELDS} } assistantMessage { ${MESSAGE_FIELDS} } }
}`;
export const STOP_GENERATION = `mutation Stop($messageId: ID!) { stopGeneration(messageId: $messageId) { ${MESSAGE_FIELDS} } }`;
export const REGENERATE = `mutation Regenerate($messageId: ID!) { regenerateMessage(messageId: $messageId) { ${MESSAGE_FIELDS} } }`;
export const CONVERSATION = `query Conversation($id: ID!) {
  conversation(id: $id) { id title messages(first: 100) { edges { node { ${MESSAGE_FIELDS} } } } }
}`;
const MESSAGE_STREAM = `subscription Stream($messageId: ID!, $afterSeq: Int) {
  messageStream(messageId: $messageId, afterSeq: $afterSeq) { messageId seq delta done message { ${MESSAGE_FIELDS} } }
}`;

export interface StreamEvent {
  messageId: string;
  seq: number;
  delta: string;
  done: boolean;
  message: { id: string; content: string; status: string; error: string | null; errorCode: string | null; creditsCharged: number | null; usage: { inputTokens: number; outputTokens: number; totalTokens: number } | null } | null;
}

export interface ChatUser {
  id: string;
  tenantId: string;
  token: string;
  /** Calls the gateway as this user. */
  call(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  /** A graphql-ws client on a conversation subgraph (default: the harness's) authenticated as this user. */
  ws(subgraphUrl?: string): WsClient;
}

/** A user with `credits` credits (GRANT entry in the ledger) and a live session. */
export async function createChatUser(sg: Supergraph, credits: number, tenantId = 'default'): Promise<ChatUser> {
  const { user } = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits });
  const token = await sg.tokenFor(user);
  const identity: Identity = { kind: 'user', tenantId, userId: user.id, roles: ['USER'], sessionId: randomUUID(), requestId: randomUUID() };
  return {
    id: user.id,
    tenantId,
    token,
    call: (query, variables) => sg.request(query, { token, variables }),
    ws: (subgraphUrl = sg.subgraphUrls.conversation) => subgraphWs(subgraphUrl, sg.internalTokenSecret, identity),
  };
}

const clients: WsClient[] = [];

/** A graphql-ws client straight to a subgraph, with the credential the gateway would sign. */
function subgraphWs(subgraphUrl: string, secret: string, identity: Identity): WsClient {
  const sign = createCredentialSigner({ secret, issuer: 'gateway' });
  const client = createClient({
    url: subgraphUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ [CREDENTIAL_PARAM]: await sign({ ...identity, requestId: randomUUID() }) }),
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  return client;
}

export async function disposeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
}

/** POSTs straight to a subgraph's /graphql with a credential (another replica, no gateway). */
export async function callSubgraph(subgraphUrl: string, secret: string, identity: Identity, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  const credential = await createCredentialSigner({ secret, issuer: 'gateway' })({ ...identity, requestId: randomUUID() });
  const response = await fetch(subgraphUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: credential },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
}

export function expectData<T = Record<string, any>>(response: GraphQLResponse): T {
  expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
  return response.body.data as T;
}

export function errorOf(response: GraphQLResponse): { code: unknown; field: unknown; message: string } {
  const error = response.body.errors?.[0];
  return { code: error?.extensions?.code, field: error?.extensions?.field, message: error?.message ?? '' };
}

/** An open messageStream subscription: events as they come, and its end. */
export interface OpenStream {
  events: StreamEvent[];
  /** Resolves with every event once the stream completes (after `done`), rejects on a stream error. */
  finished: Promise<StreamEvent[]>;
  /** Errors sent by the server (subscribe-time refusals arrive as a result carrying `errors`). */
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
  /** Resolves when at least `count` events have arrived. */
  waitForEvents(count: number, timeoutMs?: number): Promise<StreamEvent[]>;
  /** Unsubscribes (graphql-ws `complete`). */
  close(): void;
}

export function openStream(client: WsClient, messageId: string, afterSeq?: number | null): OpenStream {
  const events: StreamEvent[] = [];
  const errors: OpenStream['errors'] = [];
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((resolve) => resolve());
  let unsubscribe = () => {};
  const finished = new Promise<StreamEvent[]>((resolve, reject) => {
    unsubscribe = client.subscribe<{ messageStream: StreamEvent }>(
      { query: MESSAGE_STREAM, variables: { messageId, afterSeq: afterSeq ?? null } },
      {
        next: (result) => {
          if (result.errors) errors.push(...(result.errors as OpenStream['errors']));
          if (result.data?.messageStream) events.push(result.data.messageStream);
          notify();
        },
        error: (error) => {
          notify();
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => {
          notify();
          resolve(events);
        },
      },
    );
  });
  finished.catch(() => undefined);
  return {
    events,
    finished,
    errors,
    close: () => unsubscribe(),
    async waitForEvents(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} events (have ${events.length})`);
        await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(50)]);
      }
      return events;
    },
  };
}

/** Every event of a message's stream from `afterSeq`, until `done`. */
export async function readStream(client: WsClient, messageId: string, afterSeq?: number | null, timeoutMs = 15_000): Promise<StreamEvent[]> {
  const stream = openStream(client, messageId, afterSeq);
  const events = await withTimeout(stream.finished, timeoutMs, `stream of ${messageId}`);
  if (stream.errors.length > 0) throw new Error(`stream errors: ${JSON.stringify(stream.errors)}`);
  return events;
}

/** Seqs are 1…n (or afterSeq+1…n) without gaps, the last event alone is `done`, deltas add up to the content. */
export function expectWellFormedStream(events: StreamEvent[], afterSeq = 0): NonNullable<StreamEvent['message']> {
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => afterSeq + i + 1));
  expect(events.slice(0, -1).every((e) => !e.done && e.message === null)).toBe(true);
  const last = events.at(-1)!;
  expect(last.done).toBe(true);
  expect(last.delta).toBe('');
  expect(last.message).not.toBeNull();
  return last.message!;
}

export function joinDeltas(events: StreamEvent[]): string {
  return events.map((e) => e.delta).join('');
}

/** Credits for a usage at the model's ChatPrice, as billing computes it (rounded up per message). */
export async function expectedChatCost(db: Db, modelId: string, usage: { inputTokens: number; outputTokens: number }): Promise<number> {
  const price = await db.chatPrice.findUniqueOrThrow({ where: { modelId } });
  return Math.ceil((usage.inputTokens * price.inputPer1kTokens + usage.outputTokens * price.outputPer1kTokens) / 1000);
}

export async function balanceOf(db: Db, userId: string): Promise<{ available: number; reserved: number }> {
  const account = await db.creditAccount.findFirstOrThrow({ where: { userId }, select: { available: true, reserved: true } });
  return account;
}

export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The value of one Prometheus gauge/counter sample from a subgraph's /metrics. */
export async function metricValue(subgraphUrl: string, name: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', subgraphUrl))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
