import { isUniqueConstraintError, Prisma, type ConversationDb, type Db, type TenantScoped } from '@firefly/db';
import { keysetWhere } from '@firefly/server-kit';
import type { MessageRow, MessageStore } from '../domain/ports.ts';
import { DuplicateRequestError, type NewTurn, type TurnStore } from '../generation/ports.ts';

const select = {
  id: true,
  tenantId: true,
  userId: true,
  conversationId: true,
  role: true,
  content: true,
  status: true,
  replyToId: true,
  inputTokens: true,
  outputTokens: true,
  finishReason: true,
  error: true,
  errorCode: true,
  creditsCharged: true,
  reservationId: true,
  createdAt: true,
} as const;

/** A new message's columns that only its end sets (see TurnStore.store). */
const unsetColumns = { inputTokens: null, outputTokens: null, finishReason: null, error: null, errorCode: null, creditsCharged: null } as const;

/** The longest `error` text the column holds. */
const MAX_ERROR_LENGTH = 1_024;

/** Messages of one tenant. */
export function createMessageRepository(db: TenantScoped<ConversationDb>, tenantId: string): MessageStore {
  return {
    findByIds(ids) {
      return db.message.findMany({ where: { tenantId, id: { in: [...ids] }, conversation: { deletedAt: null } }, select });
    },
    /** One message, read fresh (no loader cache): the final state of a stream, a mutation's result. */
    findById(id) {
      return db.message.findFirst({ where: { tenantId, id, conversation: { deletedAt: null } }, select });
    },
    /** A conversation's messages, oldest first (newest last, as Conversation.messages promises). */
    listByConversation(conversationId, page) {
      return db.message.findMany({
        where: { tenantId, conversationId, ...keysetWhere(page.after, 'asc') },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: page.take + 1,
        select,
      });
    },
    /** The newest message of each conversation, in one query. */
    async lastOf(conversationIds) {
      const latest = await db.message.groupBy({
        by: ['conversationId'],
        where: { tenantId, conversationId: { in: [...conversationIds] } },
        _max: { createdAt: true },
      });
      const keys = latest.flatMap((row) => (row._max.createdAt ? [{ conversationId: row.conversationId, createdAt: row._max.createdAt }] : []));
      if (keys.length === 0) return [];
      return db.message.findMany({ where: { tenantId, OR: keys }, orderBy: { id: 'desc' }, select });
    },
    /** History for a prompt: the newest `limit` messages before `before` (default: all), newest first. */
    recentForContext(conversationId, limit, before) {
      return db.message.findMany({
        where: { tenantId, conversationId, ...(before ? { createdAt: { lt: before } } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
        select: { id: true, role: true, content: true, status: true, replyToId: true, createdAt: true },
      });
    },
    /** The conversation's newest USER message. */
    latestUserMessage(conversationId) {
      return db.message.findFirst({ where: { tenantId, conversationId, role: 'USER' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select });
    },
    /** Answers to one question still being generated. */
    streamingRepliesTo(userMessageId) {
      return db.message.findMany({ where: { tenantId, replyToId: userMessageId, status: 'STREAMING' }, select: { id: true } });
    },
    /** Streaming answers of a conversation (to stop them when it is deleted). */
    streamingIn(conversationId) {
      return db.message.findMany({ where: { tenantId, conversationId, status: 'STREAMING' }, select: { id: true } });
    },
  };
}

/** The generation lifecycle's writes (generation/ports.ts), across tenants: every call names its tenant. */
export function createTurnStore(db: ConversationDb & Pick<Db, '$executeRaw'>): TurnStore {
  return {
    /**
     * Both messages in one INSERT, on its own (no transaction: one statement is atomic), not read back: Prisma's
     * `create` on MySQL follows each INSERT with a SELECT of the row (MariaDB cannot return it). Every column a
     * MessageRow has is set here (ids, ms timestamps, the rest null), so the rows answered are the rows stored. Ids
     * are random, so the only unique key a turn can hit is the answer's idempotency key.
     *
     * Runs while billing holds the credits (start-generation.ts); the conversation is touched only once the hold is
     * placed (touchConversation). No deadlock with concurrent turns of one conversation: the INSERT's shared
     * foreign-key lock on the conversation ends with the statement, before anyone here updates the conversation
     * (issue 10: a transaction inserting messages and then updating the conversation deadlocked with another).
     */
    async insert(turn) {
      const question: MessageRow | null = turn.question
        ? {
            ...unsetColumns,
            id: turn.question.id,
            tenantId: turn.tenantId,
            conversationId: turn.conversationId,
            userId: turn.userId,
            role: 'USER',
            content: turn.question.content,
            status: 'COMPLETED',
            replyToId: null,
            reservationId: null,
            createdAt: turn.question.createdAt,
          }
        : null;
      const answer: MessageRow = {
        ...unsetColumns,
        id: turn.answer.id,
        tenantId: turn.tenantId,
        conversationId: turn.conversationId,
        userId: turn.userId,
        role: 'ASSISTANT',
        content: '',
        status: 'STREAMING',
        replyToId: turn.answer.replyToId,
        reservationId: turn.answer.reservationId,
        createdAt: turn.answer.createdAt,
      };
      const data = [...(question ? [{ ...question, idempotencyKey: null }] : []), { ...answer, idempotencyKey: turn.answer.idempotencyKey ?? null }];
      try {
        const { count } = await db.message.createMany({ data });
        if (count !== data.length) throw new Error(`stored ${count} of a turn's ${data.length} messages`);
      } catch (error) {
        rejectDuplicate(turn, error);
      }
      return { question, answer };
    },
    /**
     * lastMessageAt, and the derived title only while the conversation is untitled, in one UPDATE (raw SQL: Prisma's
     * updateMany cannot set a column on a condition of its own, so it took a second statement — a round trip and a
     * commit more on sendMessage's answer for every first message). updatedAt as Prisma's @updatedAt would set it.
     */
    async touchConversation(turn) {
      if (!turn.derivedTitle) {
        await db.conversation.updateMany({ where: { id: turn.conversationId, tenantId: turn.tenantId }, data: { lastMessageAt: turn.answer.createdAt } });
        return;
      }
      await db.$executeRaw(Prisma.sql`UPDATE \`Conversation\`
        SET \`lastMessageAt\` = ${turn.answer.createdAt}, \`title\` = CASE WHEN \`title\` = '' THEN ${turn.derivedTitle} ELSE \`title\` END,
            \`updatedAt\` = ${new Date()}
        WHERE \`id\` = ${turn.conversationId} AND \`tenantId\` = ${turn.tenantId}`);
    },
    async discard(turn) {
      await db.message.deleteMany({ where: { tenantId: turn.tenantId, id: { in: turn.messageIds } } });
    },
    async setReservation(key, reservationId) {
      await db.message.updateMany({ where: { tenantId: key.tenantId, id: key.messageId }, data: { reservationId } });
    },
    findByIdempotencyKey(key) {
      return db.message.findFirst({ where: { tenantId: key.tenantId, userId: key.userId, idempotencyKey: key.idempotencyKey }, select });
    },
    /**
     * Only while the message is still STREAMING: of two finishers (the owner and a sweeper that took over) the
     * first wins and the second changes nothing.
     */
    async finish(key, state) {
      const result = await db.message.updateMany({
        where: { id: key.messageId, tenantId: key.tenantId, status: 'STREAMING' },
        data: { ...state, error: state.error === null ? null : state.error.slice(0, MAX_ERROR_LENGTH) },
      });
      return result.count === 1;
    },
    find(key) {
      return db.message.findFirst({ where: { id: key.messageId, tenantId: key.tenantId }, select });
    },
    /** Uses the (status, createdAt) index: STREAMING rows are few, whatever the table's size. */
    async listStreaming(createdBefore, limit) {
      const rows = await db.message.findMany({
        where: { status: 'STREAMING', role: 'ASSISTANT', createdAt: { lt: createdBefore }, reservationId: { not: null } },
        orderBy: { createdAt: 'asc' },
        take: limit,
        select: { id: true, tenantId: true, userId: true, conversationId: true, reservationId: true, conversation: { select: { modelId: true } } },
      });
      return rows.map((row) => ({
        messageId: row.id,
        tenantId: row.tenantId,
        userId: row.userId,
        conversationId: row.conversationId,
        modelId: row.conversation.modelId,
        reservationId: row.reservationId!,
      }));
    },
  };
}

function rejectDuplicate(turn: NewTurn, error: unknown): never {
  if (turn.answer.idempotencyKey !== undefined && isUniqueConstraintError(error)) throw new DuplicateRequestError('the idempotency key is taken');
  throw error;
}
