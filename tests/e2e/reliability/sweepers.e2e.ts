// Sweepers racing (issue 10, item 8): several answers are orphaned at once (their generating process is killed with
// SIGKILL) while two other conversation replicas sweep every second. Whichever replica gets to an orphan first, each
// answer is finished once: one `done` on its stream, one FAILED row, its hold settled once (one CHAT_USAGE entry),
// the credits conserved. The harness's in-process subgraph is replica A, two child processes are B and C.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, callSubgraph, CREATE_CONVERSATION, createChatUser, disposeClients, expectData, expectWellFormedStream, openStream, SEND_MESSAGE, withTimeout } from '../../src/chat-helpers.ts';
import { startConversationReplica, type ConversationReplica } from '../../src/chat-replica.ts';

const ORPHANS = 6;
const env = { GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '1', MAX_CONCURRENT_GENERATIONS_PER_USER: String(ORPHANS) };

let sg: Supergraph;
let generating: ConversationReplica;
let sweeper: ConversationReplica;

beforeAll(async () => {
  sg = await startSupergraph({ env });
  generating = await startConversationReplica(sg, env);
  sweeper = await startConversationReplica(sg, env);
}, 240_000);
afterEach(async () => {
  await disposeClients();
});
afterAll(async () => {
  await generating?.kill('SIGKILL');
  await sweeper?.kill('SIGKILL');
  await sg?.stop();
});

describe('two sweepers at once', () => {
  it(`finish each of ${ORPHANS} orphaned answers exactly once`, { timeout: 120_000 }, async () => {
    const user = await createChatUser(sg, 10_000);
    const identity = { kind: 'user' as const, tenantId: user.tenantId, userId: user.id, roles: ['USER' as const], sessionId: randomUUID(), requestId: randomUUID() };
    const messageIds: string[] = [];
    for (let i = 0; i < ORPHANS; i++) {
      const conversationId = expectData(await callSubgraph(generating.url, sg.internalTokenSecret, identity, CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
      // The simulator stalls after 3 deltas: the answers are still STREAMING when their process dies.
      const sent = await callSubgraph(generating.url, sg.internalTokenSecret, identity, SEND_MESSAGE, { input: { conversationId, content: `Orphan ${i} [sim-fault:stall;afterDeltas=3]` } });
      messageIds.push(expectData(sent).sendMessage.assistantMessage.id as string);
    }
    const streams = messageIds.map((id) => openStream(user.ws(), id));
    await Promise.all(streams.map((stream) => stream.waitForEvents(3)));

    await generating.kill('SIGKILL');
    const finals = await withTimeout(Promise.all(streams.map((stream) => stream.finished)), 30_000, 'every orphan to be finished');

    for (const [i, events] of finals.entries()) {
      // Exactly one done, after the deltas, on every stream (expectWellFormedStream checks the seqs and the one end).
      expect(expectWellFormedStream(events).status, messageIds[i]).toBe('FAILED');
    }
    // The stream itself (what any later subscriber replays) holds exactly one done entry: no second finisher wrote one.
    for (const id of messageIds) {
      const entries = await sg.redis.xrange(`chat:stream:{${id}}`, '-', '+');
      expect(entries.filter(([, fields]) => fields.includes('done')), id).toHaveLength(1);
    }
    const rows = await sg.db.message.findMany({ where: { id: { in: messageIds } }, select: { id: true, status: true, creditsCharged: true } });
    expect(rows.map((row) => row.status)).toEqual(messageIds.map(() => 'FAILED'));
    const reservations = await sg.db.reservation.findMany({ where: { referenceId: { in: messageIds } } });
    expect(reservations).toHaveLength(ORPHANS);
    expect(reservations.every((r) => r.status === 'SETTLED')).toBe(true);
    // One charge per answer: the ledger has exactly one CHAT_USAGE entry for each, equal to what the row says.
    const usage = await sg.db.ledgerEntry.findMany({ where: { userId: user.id, reason: 'CHAT_USAGE' } });
    expect(usage.map((entry) => entry.referenceId).sort()).toEqual([...messageIds].sort());
    for (const row of rows) {
      expect(row.creditsCharged, row.id).not.toBeNull();
      expect(usage.find((entry) => entry.referenceId === row.id)?.delta).toBe(-row.creditsCharged!);
    }
    const charged = rows.reduce((sum, row) => sum + row.creditsCharged!, 0);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 10_000 - charged, reserved: 0 });
    // Both other replicas were sweeping the whole time (neither died nor stopped answering).
    expect((await fetch(new URL('/readyz', sweeper.url))).status).toBe(200);
  });
});
