// Issue 15, time to first token: sendMessage starts the DashScope request before the question and the answer are
// stored, and — for a user whose last hold in the process succeeded (GENERATION_EARLY_START) — before the credits are
// even held. These tests pin down that this is safe: when storing or holding fails after the request started,
// nothing of that generation survives (no message, no charge, no slot taken, the request aborted), a user who has
// not had a hold is never sent upstream before one, and when everything succeeds the answer streams whole.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, CREATE_CONVERSATION, createChatUser, disposeClients, errorOf, expectData, expectWellFormedStream, joinDeltas, readStream, SEND_MESSAGE, waitFor, type ChatUser } from '../../src/chat-helpers.ts';

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

describe('sendMessage starting the upstream request before the credits are held', () => {
  /** The simulator's chat requests whose prompt contains `marker`. */
  const upstreamWith = (marker: string) => sg.simulator.requests.filter((request) => JSON.stringify(request.body).includes(marker));
  const userGenerations = (user: ChatUser) => sg.redis.zcard(`chat:user-gens:${user.tenantId}:${user.id}`);

  async function newConversationOf(user: ChatUser) {
    return expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
  }

  async function sendAndRead(user: ChatUser, conversationId: string, content: string) {
    const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content } })).sendMessage as { assistantMessage: { id: string } };
    const final = expectWellFormedStream(await readStream(user.ws(), sent.assistantMessage.id));
    expect(final.status).toBe('COMPLETED');
    return sent.assistantMessage.id;
  }

  /**
   * Sends `content` while the user's credit account is locked by this test (billing's hold waits on the row lock),
   * and waits until the request carrying `content` reached the simulator and the question was stored — before any
   * hold could be placed — then lets the hold go on. Resolves with the sendMessage answer.
   */
  async function sendWithHoldBlocked(user: ChatUser, conversationId: string, content: string) {
    let answer!: Promise<Awaited<ReturnType<ChatUser['call']>>>;
    await sg.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM CreditAccount WHERE userId = ${user.id} FOR UPDATE`;
        answer = user.call(SEND_MESSAGE, { input: { conversationId, content } });
        await waitFor(async () => upstreamWith(content).length > 0, 20_000, 'the request upstream while the hold waits');
        expect(await tx.reservation.count({ where: { userId: user.id, status: 'HELD' } })).toBe(0);
        // The question is stored while billing holds (here: waits), not after.
        await waitFor(async () => (await sg.db.message.count({ where: { conversationId, content } })) === 1, 20_000, 'the question stored while the hold waits');
      },
      { timeout: 30_000, maxWait: 30_000 },
    );
    return answer;
  }

  it('starts the request of a user whose last hold succeeded before the hold, and streams it whole, charged once', async () => {
    const user = await createChatUser(sg, 1_000);
    const conversationId = await newConversationOf(user);
    await sendAndRead(user, conversationId, 'A first question');
    const content = `A second question ${randomUUID().slice(0, 8)}`;
    const sent = expectData(await sendWithHoldBlocked(user, conversationId, content)).sendMessage as { assistantMessage: { id: string } };
    const events = await readStream(user.ws(), sent.assistantMessage.id);
    const final = expectWellFormedStream(events);
    expect(final).toMatchObject({ status: 'COMPLETED', content: joinDeltas(events) });
    expect(final.content).not.toBe('');
    const answer = await sg.db.message.findUniqueOrThrow({ where: { id: sent.assistantMessage.id }, select: { creditsCharged: true, reservationId: true } });
    const reservation = await sg.db.reservation.findUniqueOrThrow({ where: { id: answer.reservationId! }, select: { status: true, settledAmount: true } });
    expect(reservation).toEqual({ status: 'SETTLED', settledAmount: answer.creditsCharged });
    expect(await sg.db.ledgerEntry.count({ where: { userId: user.id, reason: 'CHAT_USAGE' } })).toBe(2);
    expect(await balanceOf(sg.db, user.id)).toMatchObject({ reserved: 0 });
    expect(upstreamWith(content)).toHaveLength(1);
  });

  it('aborts an early request whose hold fails, keeping nothing of it, and sends a user without a hold upstream only after one', async () => {
    const run = randomUUID().slice(0, 8);
    // What one answer to this question holds (the worst case: input estimate + output cap), from a probe user.
    const probe = await createChatUser(sg, 1_000);
    await sendAndRead(probe, await newConversationOf(probe), `Question one ${run}-p`);
    const hold = (await sg.db.reservation.findFirstOrThrow({ where: { userId: probe.id }, select: { amount: true } })).amount;

    // A user with exactly one hold's worth. Its first answer (no hold yet in this process) goes upstream after its hold.
    const user = await createChatUser(sg, hold);
    const conversationId = await newConversationOf(user);
    await sendAndRead(user, conversationId, `Question one ${run}-u`);
    const first = await sg.db.reservation.findFirstOrThrow({ where: { userId: user.id }, select: { createdAt: true } });
    expect(upstreamWith(`${run}-u`)).toHaveLength(1);
    expect(upstreamWith(`${run}-u`)[0]!.receivedAt).toBeGreaterThanOrEqual(first.createdAt.getTime());
    const afterFirst = await balanceOf(sg.db, user.id);
    expect(afterFirst.available).toBeLessThan(hold);

    // That hold succeeded, so the next answer goes upstream at once; its hold then fails (the first answer was
    // charged): the request is aborted, and nothing of that answer is kept.
    const refused = await sendWithHoldBlocked(user, conversationId, `Question two ${run}-early`);
    expect(errorOf(refused).code).toBe('INSUFFICIENT_CREDITS');
    await waitFor(async () => upstreamWith(`${run}-early`)[0]?.outcome === 'client-closed', 10_000, 'the early request aborted');
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(2);
    expect(await sg.db.reservation.count({ where: { userId: user.id } })).toBe(1);
    expect(await balanceOf(sg.db, user.id)).toEqual(afterFirst);
    expect(await userGenerations(user)).toBe(0);

    // A hold failed, so the next answer waits for its hold again: refused before anything is sent upstream.
    const again = await user.call(SEND_MESSAGE, { input: { conversationId, content: `Question three ${run}-late` } });
    expect(errorOf(again).code).toBe('INSUFFICIENT_CREDITS');
    expect(upstreamWith(`${run}-late`)).toHaveLength(0);
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(2);
    expect(await balanceOf(sg.db, user.id)).toEqual(afterFirst);
    expect(await userGenerations(user)).toBe(0);
  });
});
