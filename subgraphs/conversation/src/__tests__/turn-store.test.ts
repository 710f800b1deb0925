import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb, type QueryEvent } from '@firefly/db';
import { createTurnStore } from '../data/messages.ts';
import { DuplicateRequestError, type NewTurn } from '../generation/ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by tests/src/global-setup.ts: this run's migrated and seeded database. */
    databaseUrl: string;
  }
}

// This run's database (tests/src/global-setup.ts), with every statement recorded.
const queries: QueryEvent[] = [];
const db = createDb({ url: inject('databaseUrl'), connectionLimit: 2, onQuery: (event) => queries.push(event) });
const turns = createTurnStore(db);
afterAll(() => db.$disconnect());

/** "UPDATE Conversation", "INSERT Message", "COMMIT": what a statement does to which table. */
const kind = (sql: string) => (sql.includes('"COMMIT"') ? 'COMMIT' : `${sql.split(' ')[0]} ${/(?:FROM|INTO|UPDATE) `(\w+)`/.exec(sql)?.[1]}`);

async function untitledConversation() {
  const tenantId = `t-${randomUUID()}`;
  const userId = `u-${randomUUID()}`;
  const conversation = await db.conversation.create({ data: { id: randomUUID(), tenantId, userId, title: '', modelId: 'qwen-turbo' } });
  return { tenantId, userId, conversationId: conversation.id };
}

function newTurn(owner: { tenantId: string; userId: string; conversationId: string }, overrides: Partial<NewTurn> = {}): NewTurn {
  const now = Date.now();
  const questionId = randomUUID();
  return {
    ...owner,
    question: { id: questionId, content: 'Tell me about fireflies', createdAt: new Date(now) },
    answer: { id: randomUUID(), replyToId: questionId, reservationId: `rsv_${randomUUID()}`, createdAt: new Date(now + 1) },
    derivedTitle: 'Fireflies',
    ...overrides,
  };
}

const readBack = (tenantId: string, id: string) => turns.find({ tenantId, messageId: id });

const statements = () => queries.map((q) => kind(q.query)).filter((statement) => !statement.startsWith('--'));

describe("storing a turn (sendMessage's question and STREAMING answer)", () => {
  it('stores both messages in one INSERT, reads nothing back and leaves the conversation alone', async () => {
    const owner = await untitledConversation();
    queries.length = 0;
    await turns.insert(newTurn(owner));
    expect(statements()).toEqual(['INSERT Message']);
    expect(await db.conversation.findUnique({ where: { id: owner.conversationId }, select: { title: true, lastMessageAt: true } })).toEqual({ title: '', lastMessageAt: null });
  });

  it('answers the rows it stored, as a fresh read returns them; the conversation is touched once the turn goes ahead', async () => {
    const owner = await untitledConversation();
    const turn = newTurn(owner);
    turn.answer.idempotencyKey = `sendMessage:${randomUUID()}`;
    const stored = await turns.insert(turn);
    expect(stored.question).toEqual(await readBack(owner.tenantId, turn.question!.id));
    expect(stored.answer).toEqual(await readBack(owner.tenantId, turn.answer.id));
    expect(stored.answer).toMatchObject({ role: 'ASSISTANT', status: 'STREAMING', content: '', replyToId: turn.question!.id, reservationId: turn.answer.reservationId });
    expect(await db.message.findUnique({ where: { id: turn.answer.id }, select: { idempotencyKey: true } })).toEqual({ idempotencyKey: turn.answer.idempotencyKey });
    const before = await db.conversation.findUniqueOrThrow({ where: { id: owner.conversationId }, select: { updatedAt: true } });
    queries.length = 0;
    await turns.touchConversation(turn);
    expect(statements()).toEqual(['UPDATE Conversation']);
    const conversation = await db.conversation.findUniqueOrThrow({ where: { id: owner.conversationId }, select: { title: true, lastMessageAt: true, updatedAt: true } });
    expect(conversation).toMatchObject({ title: 'Fireflies', lastMessageAt: turn.answer.createdAt });
    expect(conversation.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
  });

  it('names only an untitled conversation: a later turn, or one whose title was set meanwhile, keeps its title', async () => {
    const owner = await untitledConversation();
    await db.conversation.update({ where: { id: owner.conversationId }, data: { title: 'Named by the user' } });
    const turn = newTurn(owner);
    await turns.touchConversation(turn);
    expect(await db.conversation.findUnique({ where: { id: owner.conversationId }, select: { title: true, lastMessageAt: true } })).toEqual({
      title: 'Named by the user',
      lastMessageAt: turn.answer.createdAt,
    });
    const other = await untitledConversation();
    await turns.touchConversation({ ...newTurn(other), derivedTitle: undefined });
    expect(await db.conversation.findUnique({ where: { id: other.conversationId }, select: { title: true } })).toEqual({ title: '' });
    // Another tenant's conversation with the same id is out of reach (the tenant is part of the condition).
    await turns.touchConversation({ ...newTurn(owner), tenantId: `t-${randomUUID()}`, derivedTitle: 'Elsewhere' });
    expect(await db.conversation.findUnique({ where: { id: owner.conversationId }, select: { title: true } })).toEqual({ title: 'Named by the user' });
  });

  it('stores only the answer when regenerating (the question exists), one INSERT', async () => {
    const owner = await untitledConversation();
    const first = await turns.insert(newTurn(owner));
    queries.length = 0;
    const again = await turns.insert({ ...owner, answer: { id: randomUUID(), replyToId: first.question!.id, reservationId: `rsv_${randomUUID()}`, createdAt: new Date() } });
    expect(statements()).toEqual(['INSERT Message']);
    expect(again.question).toBeNull();
    expect(again.answer).toEqual(await readBack(owner.tenantId, again.answer.id));
  });

  it('refuses a taken idempotency key and stores neither message of that turn', async () => {
    const owner = await untitledConversation();
    const key = `sendMessage:${randomUUID()}`;
    const first = newTurn(owner);
    await turns.insert({ ...first, answer: { ...first.answer, idempotencyKey: key } });
    const second = newTurn(owner);
    await expect(turns.insert({ ...second, answer: { ...second.answer, idempotencyKey: key } })).rejects.toBeInstanceOf(DuplicateRequestError);
    expect(await db.message.count({ where: { id: { in: [second.question!.id, second.answer.id] } } })).toBe(0);
  });

  it('discards a turn whose hold failed, and only that turn', async () => {
    const owner = await untitledConversation();
    const kept = await turns.insert(newTurn(owner));
    const dropped = newTurn(owner);
    await turns.insert(dropped);
    await turns.discard({ tenantId: owner.tenantId, messageIds: [dropped.question!.id, dropped.answer.id] });
    expect((await db.message.findMany({ where: { conversationId: owner.conversationId }, select: { id: true } })).map((m) => m.id).sort()).toEqual([kept.question!.id, kept.answer.id].sort());
  });
});
