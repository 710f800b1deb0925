/**
 * messageStream through the gateway, end to end: the user, billing and conversation subgraphs and the gateway as
 * separate processes, the DashScope simulator, real MariaDB and Redis. Everything goes through the public
 * endpoint (HTTP for mutations, graphql-ws for the stream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { codesOf, collect, connectClient, type TestClient } from '../../src/subscription-client.ts';
import { balanceOf, createChatUser, startGeneration, storedMessage, STREAM_ACROSS_SUBGRAPHS, type ChatUser, type StreamEvent } from '../../src/subscription-chat.ts';
import { eventually, readMetric } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

let simulator: DashScopeSimulator;
let stack: Stack;
const clients: TestClient[] = [];

function client(user: ChatUser, gateway = 0): TestClient {
  const c = connectClient(stack.wsUrl(gateway), { token: user.token });
  clients.push(c);
  return c;
}

const conversationOrigin = () => stack.services.conversation![0]!.origin;
const activeIterators = async () => (await readMetric(conversationOrigin(), 'conversation_active_stream_iterators')) ?? -1;
const seqs = (events: StreamEvent[]) => events.map((e) => e.seq);

beforeAll(async () => {
  simulator = await startDashScopeSimulator({ tokenDelayMs: 30 });
  stack = await startStack({
    services: ['user', 'billing', 'conversation'],
    env: { DASHSCOPE_BASE_URL: simulator.baseUrl, DASHSCOPE_API_KEY: simulator.apiKey },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack?.stop();
  await simulator?.close();
});

describe('messageStream through the gateway', () => {
  it('streams every token, and the final event carries fields from three subgraphs', async () => {
    const alice = await createChatUser(stack, 100);
    const { conversationId, messageId } = await startGeneration(stack, alice, 'Tell me about fireflies');
    const sub = collect<{ messageStream: StreamEvent }>(client(alice).client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    const events = sub.results.map((r) => r.data!.messageStream);
    expect(events.length).toBeGreaterThanOrEqual(21);
    expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
    expect(events.slice(0, -1).every((e) => !e.done && e.message === null)).toBe(true);
    const last = events.at(-1)!;
    const balance = await balanceOf(stack.db, alice.id);
    expect(last).toMatchObject({
      messageId,
      done: true,
      message: {
        id: messageId,
        status: 'COMPLETED',
        content: events.map((e) => e.delta).join(''),
        conversation: { id: conversationId, owner: { id: alice.id, displayName: alice.displayName, creditBalance: balance } },
      },
    });
    expect(balance.available).toBeLessThan(100);
    expect(await storedMessage(stack.db, messageId)).toMatchObject({ status: 'COMPLETED', content: last.message!.content });
  });

  it('refuses another user\'s stream through the gateway', async () => {
    const [alice, mallory] = await Promise.all([createChatUser(stack, 100), createChatUser(stack, 100)]);
    const { messageId } = await startGeneration(stack, alice, 'A private question');
    const sub = collect<{ messageStream: StreamEvent }>(client(mallory).client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(sub.results).toHaveLength(1);
    expect(sub.results[0]!.data).toBeNull();
    // A foreign id looks exactly like a missing one (the owner policy).
    expect(codesOf(sub.results[0]!.errors)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(sub.results)).not.toContain('private');
  });

  it('client disconnect mid-stream closes the subgraph\'s iterator at once; generation goes on; afterSeq resumes without loss', async () => {
    const alice = await createChatUser(stack, 100);
    const { messageId } = await startGeneration(stack, alice, 'Write a long story about the moon');
    const first = client(alice);
    const sub = collect<{ messageStream: StreamEvent }>(first.client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    await sub.waitFor(5);
    expect(await activeIterators()).toBe(1);
    const seen = sub.results.map((r) => r.data!.messageStream);
    const lastSeen = seen.at(-1)!.seq;
    await first.dispose();
    const closedAt = Date.now();
    await eventually(async () => (await activeIterators()) === 0, 'the conversation subgraph to close its stream iterator', 15_000, 10);
    // Generous bound (a loaded 2-core machine runs several suites): it tells "promptly" from "never / at a timeout".
    expect(Date.now() - closedAt).toBeLessThan(15_000);
    expect((await storedMessage(stack.db, messageId)).status).toBe('STREAMING');

    // Reconnect with afterSeq: the rest, no gap, no duplicate.
    const resumed = collect<{ messageStream: StreamEvent }>(client(alice).client, STREAM_ACROSS_SUBGRAPHS, { messageId, afterSeq: lastSeen });
    expect(await resumed.outcome).toEqual({ kind: 'complete' });
    const rest = resumed.results.map((r) => r.data!.messageStream);
    const all = [...seen.filter((e) => e.seq <= lastSeen), ...rest];
    expect(seqs(all)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)!.message!.content).toBe(all.map((e) => e.delta).join(''));
    expect(await storedMessage(stack.db, messageId)).toMatchObject({ status: 'COMPLETED' });
    await eventually(async () => (await activeIterators()) === 0, 'no iterator left');
  });

  it('replays a finished message to a late subscriber, then completes', async () => {
    const alice = await createChatUser(stack, 100);
    const { messageId } = await startGeneration(stack, alice, 'Short answer please');
    await eventually(async () => (await storedMessage(stack.db, messageId)).status === 'COMPLETED', 'the generation to finish', 15_000, 100);
    const sub = collect<{ messageStream: StreamEvent }>(client(alice).client, STREAM_ACROSS_SUBGRAPHS, { messageId, afterSeq: 3 });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    const events = sub.results.map((r) => r.data!.messageStream);
    expect(events[0]!.seq).toBe(4);
    expect(events.at(-1)!.done).toBe(true);
  });

  it('ends the client\'s stream with UPSTREAM_UNAVAILABLE within a bound when the conversation subgraph dies', async () => {
    const alice = await createChatUser(stack, 100);
    const { messageId } = await startGeneration(stack, alice, 'Another long story about the sea');
    const sub = collect<{ messageStream: StreamEvent }>(client(alice).client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    await sub.waitFor(3);
    const killedAt = Date.now();
    await stack.services.conversation![0]!.kill();
    const outcome = await sub.outcome;
    // Generous bound (a loaded 2-core machine runs several suites): it tells "promptly" from "never / at a timeout".
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(outcome.kind === 'error' && codesOf(outcome.error)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect((await stack.request('{ products { id } }')).status).toBe(200);
  });
});
