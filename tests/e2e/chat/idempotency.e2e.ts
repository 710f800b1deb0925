// sendMessage and regenerateMessage with an idempotencyKey (issue 10): a retried request — one after the other or
// several at the same time — returns the first request's messages and is charged once.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import {
  balanceOf,
  CONVERSATION,
  CREATE_CONVERSATION,
  createChatUser,
  disposeClients,
  errorOf,
  expectData,
  readStream,
  SEND_MESSAGE,
  waitFor,
  type ChatUser,
} from '../../src/chat-helpers.ts';

const REGENERATE_WITH_KEY = `mutation Regenerate($messageId: ID!, $idempotencyKey: String) {
  regenerateMessage(messageId: $messageId, idempotencyKey: $idempotencyKey) { id status }
}`;

let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({ env: { GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '1', MAX_CONCURRENT_GENERATIONS_PER_USER: '1' } });
});

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.stop();
});

async function newConversation(user: ChatUser): Promise<string> {
  return expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id;
}

function send(user: ChatUser, conversationId: string, content: string, idempotencyKey?: string) {
  return user.call(SEND_MESSAGE, { input: { conversationId, content, idempotencyKey } });
}

async function messagesOf(user: ChatUser, conversationId: string): Promise<Array<{ id: string; role: string; status: string }>> {
  const data = expectData(await user.call(CONVERSATION, { id: conversationId }));
  return data.conversation.messages.edges.map((edge: { node: { id: string; role: string; status: string } }) => edge.node);
}

/** Waits until every answer of the user is finished and no credits are held. */
async function settled(user: ChatUser): Promise<{ available: number; reserved: number }> {
  await waitFor(async () => (await sg.db.message.count({ where: { userId: user.id, status: 'STREAMING' } })) === 0, 15_000, 'answers to finish');
  return waitFor(async () => {
    const balance = await balanceOf(sg.db, user.id);
    return balance.reserved === 0 ? balance : undefined;
  }, 15_000, 'holds to be settled');
}

async function chargesOf(userId: string): Promise<number> {
  const entries = await sg.db.ledgerEntry.findMany({ where: { userId, reason: 'CHAT_USAGE' } });
  return entries.length;
}

describe('sendMessage with an idempotencyKey', () => {
  it('returns the same messages for a retry and charges once', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const key = randomUUID();
    const first = expectData(await send(user, conversationId, 'Hello once', key)).sendMessage;
    await readStream(user.ws(), first.assistantMessage.id);
    const retry = expectData(await send(user, conversationId, 'Hello once', key)).sendMessage;
    expect(retry.userMessage.id).toBe(first.userMessage.id);
    expect(retry.assistantMessage.id).toBe(first.assistantMessage.id);
    // The retry sees the answer as it is now.
    expect(retry.assistantMessage.status).toBe('COMPLETED');

    const balance = await settled(user);
    expect(await messagesOf(user, conversationId)).toHaveLength(2);
    expect(await chargesOf(user.id)).toBe(1);
    expect(await sg.db.reservation.count({ where: { userId: user.id } })).toBe(1);
    expect(balance.available).toBe(100 - (retry.assistantMessage.creditsCharged as number));
  });

  it('gives concurrent duplicates the same messages, one reservation and one charge', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const key = randomUUID();
    // One generation slot per user: a duplicate that reserved and generated on its own would be RATE_LIMITED.
    const responses = await Promise.all(Array.from({ length: 8 }, () => send(user, conversationId, 'Hello at once', key)));
    const payloads = responses.map((response) => expectData(response).sendMessage);
    expect(new Set(payloads.map((p) => p.userMessage.id)).size).toBe(1);
    expect(new Set(payloads.map((p) => p.assistantMessage.id)).size).toBe(1);

    await settled(user);
    expect(await messagesOf(user, conversationId)).toHaveLength(2);
    expect(await sg.db.reservation.count({ where: { userId: user.id } })).toBe(1);
    expect(await chargesOf(user.id)).toBe(1);
  });

  it("answers a duplicate that arrives while the first request still waits for its hold with the first one's outcome, not with its messages", async () => {
    // The question and the answer are stored while billing holds the credits (start-generation.ts): the first request's
    // messages exist before its hold is known. A duplicate must not be answered with them then — here the hold is
    // refused (one credit is less than any answer's worst case), and the messages are removed again.
    const user = await createChatUser(sg, 1);
    const conversationId = await newConversation(user);
    const key = randomUUID();
    const content = `Refused once ${key.slice(0, 8)}`;
    let first!: ReturnType<typeof send>;
    let duplicate!: ReturnType<typeof send>;
    await sg.db.$transaction(
      async (tx) => {
        // Billing's hold waits on this row lock, so the first request stays between storing its turn and its hold.
        await tx.$queryRaw`SELECT id FROM CreditAccount WHERE userId = ${user.id} FOR UPDATE`;
        first = send(user, conversationId, content, key);
        await waitFor(async () => (await sg.db.message.count({ where: { conversationId, content } })) === 1, 20_000, 'the question stored while the hold waits');
        duplicate = send(user, conversationId, content, key);
        // Time for the duplicate to be answered while the hold still waits, if it is going to be (it must not).
        await Promise.race([duplicate, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      },
      { timeout: 30_000, maxWait: 30_000 },
    );
    expect(errorOf(await first).code).toBe('INSUFFICIENT_CREDITS');
    expect(errorOf(await duplicate).code).toBe('INSUFFICIENT_CREDITS');
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(0);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 1, reserved: 0 });
  });

  it('keeps keys apart per user and per request, and refuses a key reused for another text or a bad key', async () => {
    const alice = await createChatUser(sg, 100);
    const bob = await createChatUser(sg, 100);
    const aliceConversation = await newConversation(alice);
    const bobConversation = await newConversation(bob);
    const key = randomUUID();
    const a = expectData(await send(alice, aliceConversation, 'Same key, Alice', key)).sendMessage;
    const b = expectData(await send(bob, bobConversation, 'Same key, Bob', key)).sendMessage;
    expect(b.assistantMessage.id).not.toBe(a.assistantMessage.id);

    const reused = errorOf(await send(alice, aliceConversation, 'Another text', key));
    expect(reused).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    // Without a key every request is new.
    await settled(alice);
    const again = expectData(await send(alice, aliceConversation, 'Same key, Alice')).sendMessage;
    expect(again.assistantMessage.id).not.toBe(a.assistantMessage.id);

    expect(errorOf(await send(alice, aliceConversation, 'Bad key', ' '))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect(errorOf(await send(alice, aliceConversation, 'Bad key', 'k'.repeat(129)))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    await settled(alice);
    await settled(bob);
  });
});

describe('regenerateMessage with an idempotencyKey', () => {
  it('returns the same new answer to concurrent duplicates and to a later retry, charged once', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const sent = expectData(await send(user, conversationId, 'Tell me again')).sendMessage;
    await readStream(user.ws(), sent.assistantMessage.id);
    await settled(user);

    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 6 }, () => user.call(REGENERATE_WITH_KEY, { messageId: sent.assistantMessage.id, idempotencyKey: key })));
    const ids = responses.map((response) => expectData(response).regenerateMessage.id as string);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).not.toBe(sent.assistantMessage.id);
    await readStream(user.ws(), ids[0]!);

    // Later, the same key still names that answer instead of generating a third one.
    const retry = expectData(await user.call(REGENERATE_WITH_KEY, { messageId: sent.assistantMessage.id, idempotencyKey: key })).regenerateMessage;
    expect(retry).toMatchObject({ id: ids[0], status: 'COMPLETED' });

    await settled(user);
    expect(await messagesOf(user, conversationId)).toHaveLength(3);
    expect(await chargesOf(user.id)).toBe(2);
    expect(await sg.db.reservation.count({ where: { userId: user.id } })).toBe(2);
  });
});
