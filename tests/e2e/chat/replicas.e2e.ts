// Chat across conversation replicas: the harness's in-process subgraph (replica A) and the subgraph's own main.ts
// in a child process (replica B), sharing MariaDB, Redis, billing and the DashScope simulator.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens, estimateTokens } from '@firefly/dashscope-simulator';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import {
  balanceOf,
  callSubgraph,
  CREATE_CONVERSATION,
  createChatUser,
  disposeClients,
  expectData,
  expectedChatCost,
  expectWellFormedStream,
  joinDeltas,
  openStream,
  SEND_MESSAGE,
  STOP_GENERATION,
  withTimeout,
  type ChatUser,
} from '../../src/chat-helpers.ts';
import { startConversationReplica, type ConversationReplica } from '../../src/chat-replica.ts';

const LEASE_SECONDS = 2;
const SWEEP_SECONDS = 1;
const env = { GENERATION_LEASE_SECONDS: String(LEASE_SECONDS), GENERATION_SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS) };

let sg: Supergraph;
/** Replica B; the last test kills it. */
let b: ConversationReplica;

beforeAll(async () => {
  sg = await startSupergraph({ env });
  b = await startConversationReplica(sg, env);
});

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await b?.kill('SIGKILL');
  await sg?.stop();
});

/** sendMessage straight to replica B, as the gateway would route it there. */
async function sendOn(target: ConversationReplica, user: ChatUser, content: string) {
  const identity = { kind: 'user' as const, tenantId: user.tenantId, userId: user.id, roles: ['USER' as const], sessionId: randomUUID(), requestId: randomUUID() };
  const conversationId = expectData(await callSubgraph(target.url, sg.internalTokenSecret, identity, CREATE_CONVERSATION, { input: {} })).createConversation.id;
  const response = await callSubgraph(target.url, sg.internalTokenSecret, identity, SEND_MESSAGE, { input: { conversationId, content } });
  return expectData(response).sendMessage.assistantMessage as { id: string; status: string };
}

function upstreamRequest(nonce: string) {
  return sg.simulator.requests.filter((r) => r.endpoint === 'generation' && JSON.stringify(r.body).includes(nonce)).at(-1) as
    | ((typeof sg.simulator.requests)[number] & { body: { input: { messages: { content: string }[] } } })
    | undefined;
}

describe('two conversation replicas', () => {
  it('a subscriber on replica A gets every token generated on replica B, and stopGeneration on A stops B', async () => {
    const user = await createChatUser(sg, 100);
    const nonce = randomUUID().slice(0, 8);
    const message = await sendOn(b, user, `Describe the night sky ${nonce} [sim-fault:stall;afterDeltas=5]`);
    expect(message.status).toBe('STREAMING');

    const stream = openStream(user.ws(), message.id);
    await stream.waitForEvents(5);
    // Through the gateway, which routes to replica A: the stop travels over Redis pub/sub to B.
    const stopped = expectData(await user.call(STOP_GENERATION, { messageId: message.id })).stopGeneration;
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.content).toBe(joinDeltas(stream.events.slice(0, 5)));
    const final = expectWellFormedStream(await withTimeout(stream.finished, 5_000, 'the stream end'));
    expect(final.status).toBe('STOPPED');
    expect(upstreamRequest(nonce)!.outcome).toBe('client-closed');
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - stopped.creditsCharged, reserved: 0 });
  });

  it('killing the generating process mid-stream ends the message FAILED within the lease, partial text kept, credits settled', async () => {
    const user = await createChatUser(sg, 100);
    const nonce = randomUUID().slice(0, 8);
    const message = await sendOn(b, user, `Explain tides ${nonce} [sim-fault:stall;afterDeltas=5]`);
    const stream = openStream(user.ws(), message.id);
    await stream.waitForEvents(5);

    await b.kill('SIGKILL');
    const killedAt = Date.now();
    const events = await withTimeout(stream.finished, 10_000, 'the orphaned message to be finished');
    const elapsed = Date.now() - killedAt;
    // The lease expires at most LEASE_SECONDS after the last renewal (before the kill), and a sweep follows within
    // SWEEP_SECONDS; a little slack for the finishing writes.
    expect(elapsed).toBeLessThan((LEASE_SECONDS + SWEEP_SECONDS) * 1_000 + 1_000);

    const final = expectWellFormedStream(events);
    expect(events).toHaveLength(6);
    expect(final.status).toBe('FAILED');
    expect(final.content).toBe(joinDeltas(events));
    expect(final.error).toMatch(/interrupted because the server generating it stopped/);

    // Settled for what was generated: the usage of the last delta that reached Redis.
    const request = upstreamRequest(nonce)!;
    const usage = { inputTokens: estimatePromptTokens(request.body.input.messages.map((m) => m.content)), outputTokens: estimateTokens(final.content) };
    expect(final.usage).toMatchObject(usage);
    const cost = await expectedChatCost(sg.db, 'qwen-turbo', usage);
    expect(final.creditsCharged).toBe(cost);
    expect(await sg.db.reservation.findFirstOrThrow({ where: { referenceId: message.id } })).toMatchObject({ status: 'SETTLED', settledAmount: cost });
    const ledger = await sg.db.ledgerEntry.findMany({ where: { userId: user.id, reason: 'CHAT_USAGE' } });
    expect(ledger.map((entry) => [entry.delta, entry.referenceId])).toEqual([[-cost, message.id]]);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - cost, reserved: 0 });
    // The user's generation slot went with it.
    expect(await sg.redis.zcard(`chat:user-gens:${user.tenantId}:${user.id}`)).toBe(0);
  });
});
