import { Prisma, type ConversationDb, type Db, type TenantScoped } from '@firefly/db';
import { keysetWhere } from '@firefly/server-kit';
import type { ConversationFields, ConversationRow, ConversationStore } from '../domain/ports.ts';
import { chatModelOf, truthy, type ChatModelJoinRow } from './models.ts';

const select = {
  id: true,
  tenantId: true,
  userId: true,
  title: true,
  modelId: true,
  systemPrompt: true,
  temperature: true,
  topP: true,
  maxTokens: true,
  enableSearch: true,
  createdAt: true,
  updatedAt: true,
} as const;

/**
 * The raw-SQL capability the conversation data layer takes besides its model delegates: the conversation and its
 * model (ChatModel and the tenant's TenantChatModel override have no relation to Conversation in the schema, so
 * Prisma's query API would read them in two round trips, one after the other) in one statement.
 */
export type ConversationSql = Pick<Db, '$queryRaw'>;

/** One row of {@link findOwnedWithModelSql}: the conversation's columns, then the model's (`m_`, null without one). */
interface ConversationWithModelRow extends Omit<ConversationFields, 'enableSearch'>, ChatModelJoinRow {
  id: string;
  tenantId: string;
  userId: string;
  /** MariaDB's BOOLEAN (TINYINT) as the driver hands it over. */
  enableSearch: boolean | number | bigint;
  createdAt: Date | string;
  updatedAt: Date | string;
}

/** Conversations of one tenant; deleted ones (soft delete) are invisible. */
export function createConversationRepository(db: TenantScoped<ConversationDb>, tenantId: string, sql: ConversationSql): ConversationStore {
  return {
    findByIds(ids) {
      return db.conversation.findMany({ where: { tenantId, id: { in: [...ids] }, deletedAt: null }, select });
    },
    /** A user's live conversation, read fresh; null when missing, deleted or someone else's. */
    findOwned(id, userId) {
      return db.conversation.findFirst({ where: { tenantId, id, userId, deletedAt: null }, select });
    },
    /**
     * The conversation (the same conditions as findOwned, tenant named explicitly: raw SQL is not tenant-scoped),
     * its model and the tenant's override of it, in one statement — the primary key finds the conversation, each
     * join its row by primary key.
     */
    async findOwnedWithModel(id, userId) {
      const rows = await sql.$queryRaw<ConversationWithModelRow[]>(Prisma.sql`
        SELECT c.\`id\`, c.\`tenantId\`, c.\`userId\`, c.\`title\`, c.\`modelId\`, c.\`systemPrompt\`, c.\`temperature\`, c.\`topP\`,
               c.\`maxTokens\`, c.\`enableSearch\`, c.\`createdAt\`, c.\`updatedAt\`,
               m.\`id\` AS \`m_id\`, m.\`name\` AS \`m_name\`, m.\`description\` AS \`m_description\`, m.\`maxInputTokens\` AS \`m_maxInputTokens\`,
               m.\`maxOutputTokens\` AS \`m_maxOutputTokens\`, m.\`active\` AS \`m_active\`, m.\`provider\` AS \`m_provider\`,
               t.\`hidden\` AS \`hiddenForTenant\`
        FROM \`Conversation\` c
        LEFT JOIN \`ChatModel\` m ON m.\`id\` = c.\`modelId\`
        LEFT JOIN \`TenantChatModel\` t ON t.\`tenantId\` = c.\`tenantId\` AND t.\`modelId\` = c.\`modelId\` AND t.\`hidden\` = TRUE
        WHERE c.\`id\` = ${id} AND c.\`tenantId\` = ${tenantId} AND c.\`userId\` = ${userId} AND c.\`deletedAt\` IS NULL
        LIMIT 1`);
      const row = rows[0];
      return row ? { conversation: conversationOf(row), model: chatModelOf(row) } : null;
    },
    /** A user's conversations, most recently created first. */
    listByUser(userId, page) {
      return db.conversation.findMany({
        where: { tenantId, userId, deletedAt: null, ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select,
      });
    },
    create(id, userId, fields) {
      return db.conversation.create({ data: { id, tenantId, userId, ...fields }, select });
    },
    /** Updates a live conversation of `userId`; null when there is none. */
    async update(id, userId, fields) {
      const { count } = await db.conversation.updateMany({ where: { id, tenantId, userId, deletedAt: null }, data: fields });
      return count === 1 ? db.conversation.findFirst({ where: { id, tenantId }, select }) : null;
    },
    /** Soft delete: the row stays (messages keep their billing record), every read hides it. */
    async softDelete(id, userId) {
      const { count } = await db.conversation.updateMany({ where: { id, tenantId, userId, deletedAt: null }, data: { deletedAt: new Date() } });
      return count === 1;
    },
  };
}

function conversationOf(row: ConversationWithModelRow): ConversationRow {
  return {
    id: row.id,
    tenantId: row.tenantId,
    userId: row.userId,
    title: row.title,
    modelId: row.modelId,
    systemPrompt: row.systemPrompt,
    temperature: row.temperature === null ? null : Number(row.temperature),
    topP: row.topP === null ? null : Number(row.topP),
    maxTokens: row.maxTokens === null ? null : Number(row.maxTokens),
    enableSearch: truthy(row.enableSearch),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}
