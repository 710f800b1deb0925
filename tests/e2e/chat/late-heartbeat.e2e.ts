// A generation whose heartbeat is late (an event loop busy for longer than a lease, as under thousands of streams)
// is still alive in the process that runs it: that process's own orphan sweep must not take it over and end a
// healthy answer FAILED. Simulated by expiring the lease in Redis while the answer streams; the sweep runs every
// second, the owner renews only every 5 s (a third of the 15 s lease), so the sweep sees the expired lease first.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import {
  CREATE_CONVERSATION,
  createChatUser,
  disposeClients,
  expectData,
  expectWellFormedStream,
  joinDeltas,
  openStream,
  SEND_MESSAGE,
  withTimeout,
} from '../../src/chat-helpers.ts';

let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({ env: { GENERATION_LEASE_SECONDS: '15', GENERATION_SWEEP_INTERVAL_SECONDS: '1' }, simulator: { tokenDelayMs: 40, minDeltas: 100 } });
});

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.stop();
});

describe('a generation whose lease renewal is late', () => {
  it('is left to the process that runs it: the answer completes whole and is charged once', async () => {
    const user = await createChatUser(sg, 1_000);
    const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
    const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content: 'Tell me a long story' } })).sendMessage;
    const messageId = sent.assistantMessage.id as string;
    const stream = openStream(user.ws(), messageId);
    await stream.waitForEvents(3);

    // The lease as a missed renewal leaves it: expired in the record and in the sweep's index.
    expect(await sg.redis.hset(`chat:gen:{${messageId}}`, 'exp', '1')).toBe(0);
    await sg.redis.zadd('chat:gen-leases', 1, messageId);
    // Two sweep rounds pass before the owner's next renewal.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const events = await withTimeout(stream.finished, 20_000, 'the stream to end');
    const final = expectWellFormedStream(events);
    expect(final.status).toBe('COMPLETED');
    expect(final.content).toBe(joinDeltas(events));
    const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } });
    expect(reservation.status).toBe('SETTLED');
    expect(await sg.db.ledgerEntry.count({ where: { referenceId: messageId } })).toBe(1);
  }, 60_000);
});
