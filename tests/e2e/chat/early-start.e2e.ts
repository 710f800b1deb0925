// Issue 15, time to first token: sendMessage starts the DashScope request as soon as the credits are held and the
// generation is registered, while the question and the answer are being stored. These tests pin down that this is
// safe: when storing fails after the request started, nothing of that generation survives (no message, no charge,
// no slot taken), and when storing succeeds the answer streams whole.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, CREATE_CONVERSATION, createChatUser, disposeClients, errorOf, expectData, expectWellFormedStream, joinDeltas, readStream, SEND_MESSAGE } from '../../src/chat-helpers.ts';

// A question containing this text cannot be stored: a trigger of this run's database refuses the row.
const UNSTORABLE = `unstorable-${randomUUID().slice(0, 8)}`;
const TRIGGER = `refuse_${UNSTORABLE.replace(/-/g, '_')}`;
let sg: Supergraph;

beforeAll(async () => {
  // One generation at a time per user: a slot left behind by the failed send would refuse the next one.
  sg = await startSupergraph({ env: { MAX_CONCURRENT_GENERATIONS_PER_USER: '1' }, simulator: { tokenDelayMs: 20 } });
  await sg.db.$executeRawUnsafe(
    `CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON Message FOR EACH ROW
       IF NEW.content LIKE '%${UNSTORABLE}%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF`,
  );
}, 180_000);

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${TRIGGER}`).catch(() => undefined);
  await sg?.stop();
});

describe('sendMessage starting the upstream request before the rows are stored', () => {
  it('leaves nothing behind when storing fails, and the next message streams whole', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;

    const failed = await user.call(SEND_MESSAGE, { input: { conversationId, content: `Tell me a story ${UNSTORABLE}` } });
    expect(failed.body.data?.sendMessage ?? null).toBeNull();
    expect(errorOf(failed).code).toBe('INTERNAL_SERVER_ERROR');

    // Give a generation that was not dropped time to write and finish (the simulator answers within a second).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(0);
    const reservations = await sg.db.reservation.findMany({ where: { userId: user.id }, select: { id: true, status: true, referenceId: true } });
    expect(reservations.map((r) => r.status)).toEqual(['RELEASED']);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
    expect(await sg.db.ledgerEntry.count({ where: { userId: user.id, reason: 'CHAT_USAGE' } })).toBe(0);
    // The hold was placed for the answer that never got stored (its id is the hold's reference): the dropped
    // generation wrote no token stream, left no generation record and queued no settlement.
    const answerId = reservations[0]!.referenceId;
    expect(await sg.redis.exists(`chat:stream:{${answerId}}`, `chat:gen:{${answerId}}`)).toBe(0);
    expect(await sg.db.pendingSettlement.count({ where: { reservationId: reservations[0]!.id } })).toBe(0);

    // The slot was given back (at most one generation at a time here), and a storable question streams whole.
    const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content: 'Tell me a short story' } })).sendMessage as { assistantMessage: { id: string } };
    const events = await readStream(user.ws(), sent.assistantMessage.id);
    const final = expectWellFormedStream(events);
    expect(final.status).toBe('COMPLETED');
    expect(final.content).toBe(joinDeltas(events));
    expect(final.content).not.toBe('');
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(2);
  });
});
