// The settlement outbox (issue 10): billing unreachable when an answer ends — for longer than the credits client's
// own retries — parks the settlement in MySQL; once billing is back it is charged exactly once.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, callSubgraph, CREATE_CONVERSATION, createChatUser, disposeClients, expectData, SEND_MESSAGE, STOP_GENERATION, waitFor } from '../../src/chat-helpers.ts';
import { startConversationReplica, type ConversationReplica } from '../../src/chat-replica.ts';
import { startTcpProxy, type TcpProxy } from '../../src/tcp-proxy.ts';

let sg: Supergraph;
let proxy: TcpProxy;
/** A conversation replica that reaches billing only through the proxy. */
let replica: ConversationReplica;

// A supergraph and a replica started by tsx: on a loaded machine (two suites at once) that outlasts the default 60 s.
beforeAll(async () => {
  sg = await startSupergraph({ env: { GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '1' } });
  // Every replica delivers parked settlements: the harness's own conversation subgraph would reach billing directly.
  await sg.servers.conversation.stop();
  proxy = await startTcpProxy(sg.subgraphUrls.billing);
  replica = await startConversationReplica(sg, {
    GENERATION_LEASE_SECONDS: '2',
    GENERATION_SWEEP_INTERVAL_SECONDS: '1',
    BILLING_SUBGRAPH_URL: proxy.url,
    BILLING_TIMEOUT_MS: '1000',
  });
}, 180_000);

afterEach(async () => {
  proxy?.setDown(false);
  await disposeClients();
});

afterAll(async () => {
  await replica?.kill('SIGKILL');
  await proxy?.close();
  await sg?.stop();
});

describe('the settlement outbox', () => {
  it('keeps a settlement billing did not accept and charges it exactly once when billing is back', async () => {
    const user = await createChatUser(sg, 1_000);
    const identity = { kind: 'user' as const, tenantId: user.tenantId, userId: user.id, roles: ['USER' as const], sessionId: randomUUID(), requestId: randomUUID() };
    const call = (query: string, variables: Record<string, unknown>) => callSubgraph(replica.url, sg.internalTokenSecret, identity, query, variables);
    const conversationId = expectData(await call(CREATE_CONVERSATION, { input: {} })).createConversation.id;
    // The answer stalls after 5 deltas, so billing can be taken away before it ends.
    const sent = expectData(await call(SEND_MESSAGE, { input: { conversationId, content: 'Count the stars [sim-fault:stall;afterDeltas=5]' } })).sendMessage;
    const messageId = sent.assistantMessage.id as string;
    await waitFor(async () => (await sg.redis.xlen(`chat:stream:{${messageId}}`)) >= 5, 10_000, 'five deltas');

    proxy.setDown(true);
    const stopped = expectData(await call(STOP_GENERATION, { messageId })).stopGeneration;
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.creditsCharged).toBeNull();

    // Longer than the client's own retry window: the settlement waits in the outbox, the hold stays.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const parked = await sg.db.pendingSettlement.findFirst({ where: { messageId } });
    if (!parked) throw new Error(replica.output());
    expect(parked.attempts).toBeGreaterThanOrEqual(1);
    expect(parked.lastError).toMatch(/unavailable/i);
    expect(await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } })).toMatchObject({ status: 'HELD' });
    expect(await sg.db.ledgerEntry.count({ where: { referenceId: messageId } })).toBe(0);

    proxy.setDown(false);
    await waitFor(async () => (await sg.db.pendingSettlement.count({ where: { messageId } })) === 0, 20_000, 'the parked settlement to be delivered');
    const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } });
    expect(reservation.status).toBe('SETTLED');
    expect(reservation.settledAmount).toBeGreaterThan(0);
    const ledger = await sg.db.ledgerEntry.findMany({ where: { referenceId: messageId } });
    expect(ledger.map((entry) => entry.delta)).toEqual([-reservation.settledAmount!]);
    expect((await sg.db.message.findUniqueOrThrow({ where: { id: messageId } })).creditsCharged).toBe(reservation.settledAmount);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 1_000 - reservation.settledAmount!, reserved: 0 });
  }, 60_000);
});
