import type { ConversationDb, TenantScoped } from '@firefly/db';
import { keysetWhere } from '@firefly/server-kit';
import type { ConversationStore } from '../domain/ports.ts';

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

/** Conversations of one tenant; deleted ones (soft delete) are invisible. */
export function createConversationRepository(db: TenantScoped<ConversationDb>, tenantId: string): ConversationStore {
  return {
    findByIds(ids) {
      return db.conversation.findMany({ where: { tenantId, id: { in: [...ids] }, deletedAt: null }, select });
    },
    /** A user's live conversation, read fresh; null when missing, deleted or someone else's. */
    findOwned(id, userId) {
      return db.conversation.findFirst({ where: { tenantId, id, userId, deletedAt: null }, select });
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
