import type { ConversationDb } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';

export type ConversationRow = Awaited<ReturnType<ReturnType<typeof createConversationRepository>['findByIds']>>[number];

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
export function createConversationRepository(db: ConversationDb, tenantId: string) {
  return {
    findByIds(ids: readonly string[]) {
      return db.conversation.findMany({ where: { tenantId, id: { in: [...ids] }, deletedAt: null }, select });
    },
    /** A user's conversations, most recently created first. */
    listByUser(userId: string, page: Page) {
      return db.conversation.findMany({
        where: { tenantId, userId, deletedAt: null, ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select,
      });
    },
  };
}
