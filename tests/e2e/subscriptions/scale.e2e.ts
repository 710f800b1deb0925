/**
 * Horizontal scale (issue 6, point 4): two gateway replicas and two conversation replicas, each its own process.
 * Gateway A routes to conversation replica A, gateway B to conversation replica B, so a message sent through
 * gateway B is generated on replica B, and a stream followed through gateway A is read by replica A from Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { collect, connectClient, type TestClient } from '../../src/subscription-client.ts';
import { createChatUser, startGeneration, storedMessage, STREAM_ACROSS_SUBGRAPHS, type StreamEvent } from '../../src/subscription-chat.ts';
import { eventually, readMetric } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

const A = 0;
const B = 1;
let simulator: DashScopeSimulator;
let stack: Stack;
const clients: TestClient[] = [];

const conversation = (replica: number) => stack.services.conversation![replica]!;
const runningGenerations = async (replica: number) => (await readMetric(conversation(replica).origin, 'conversation_active_generations')) ?? 0;

beforeAll(async () => {
  simulator = await startDashScopeSimulator({ tokenDelayMs: 30 });
  stack = await startStack({
    services: ['user', 'billing', 'conversation'],
    replicas: { conversation: 2 },
    env: { DASHSCOPE_BASE_URL: simulator.baseUrl, DASHSCOPE_API_KEY: simulator.apiKey },
  });
  // Gateway A (index 0) routes to the first conversation replica; gateway B to the second.
  await stack.addGateway({ CONVERSATION_SUBGRAPH_URL: conversation(B).url });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await stack?.stop();
  await simulator?.close();
});

describe('two gateways, two conversation replicas', () => {
  it('a client on gateway A receives every token of a message generated on conversation replica B', async () => {
    const alice = await createChatUser(stack, 100);
    const { messageId } = await startGeneration(stack, alice, 'Describe the night sky over the lake', B);
    // The generation runs on B, not on A.
    expect(await eventually(async () => (await runningGenerations(B)) === 1, 'the generation to run on replica B', 2_000, 5)).toBe(true);
    expect(await runningGenerations(A)).toBe(0);

    const c = connectClient(stack.wsUrl(A), { token: alice.token });
    clients.push(c);
    const sub = collect<{ messageStream: StreamEvent }>(c.client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    const events = sub.results.map((r) => r.data!.messageStream);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const last = events.at(-1)!;
    expect(last.done).toBe(true);
    const stored = await storedMessage(stack.db, messageId);
    expect(stored).toEqual({ status: 'COMPLETED', content: events.map((e) => e.delta).join('') });
    expect(last.message).toMatchObject({ status: 'COMPLETED', content: stored.content, conversation: { owner: { id: alice.id } } });
    // Read by replica A's stream reader, through gateway A's upstream socket.
    expect(stack.gateways[A]!.logs.some((l) => l.msg === 'subscription started' && l.userId === alice.id)).toBe(true);
  });

  it('a client that drops from gateway A and reconnects to gateway B with afterSeq continues without loss', async () => {
    const alice = await createChatUser(stack, 100);
    const { messageId } = await startGeneration(stack, alice, 'Tell a long tale of two cities and a river', B);
    const onA = connectClient(stack.wsUrl(A), { token: alice.token });
    clients.push(onA);
    const first = collect<{ messageStream: StreamEvent }>(onA.client, STREAM_ACROSS_SUBGRAPHS, { messageId });
    await first.waitFor(6);
    // The connection drops without a goodbye (network loss, gateway A restarting).
    (onA.client as unknown as { terminate(): void }).terminate();
    const seen = first.results.map((r) => r.data!.messageStream);
    const lastSeen = seen.at(-1)!.seq;

    const onB = connectClient(stack.wsUrl(B), { token: alice.token });
    clients.push(onB);
    const second = collect<{ messageStream: StreamEvent }>(onB.client, STREAM_ACROSS_SUBGRAPHS, { messageId, afterSeq: lastSeen });
    expect(await second.outcome).toEqual({ kind: 'complete' });
    const all = [...seen, ...second.results.map((r) => r.data!.messageStream)];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const stored = await storedMessage(stack.db, messageId);
    expect(stored.status).toBe('COMPLETED');
    expect(all.map((e) => e.delta).join('')).toBe(stored.content);
    expect(all.at(-1)!.message!.content).toBe(stored.content);
  });
});
