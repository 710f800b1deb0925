import type { ConversationDb } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';

const select = {
  id: true,
  tenantId: true,
  userId: true,
  conversationId: true,
  role: true,
  content: true,
  status: true,
  inputTokens: true,
  outputTokens: true,
  finishReason: true,
  error: true,
  creditsCharged: true,
  createdAt: true,
} as const;

export type MessageRow = Awaited<ReturnType<ReturnType<typeof createMessageRepository>['findByIds']>>[number];

export function createMessageRepository(db: ConversationDb, tenantId: string) {
  return {
    findByIds(ids: readonly string[]) {
      return db.message.findMany({ where: { tenantId, id: { in: [...ids] }, conversation: { deletedAt: null } }, select });
    },
    /** A conversation's messages, oldest first (newest last, api-contract.md). */
    listByConversation(conversationId: string, page: Page) {
      return db.message.findMany({
        where: { tenantId, conversationId, ...keysetWhere(page.after, 'asc') },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: page.take + 1,
        select,
      });
    },
    /** The newest message of each conversation, in one query. */
    async lastOf(conversationIds: readonly string[]) {
      const latest = await db.message.groupBy({
        by: ['conversationId'],
        where: { tenantId, conversationId: { in: [...conversationIds] } },
        _max: { createdAt: true },
      });
      const keys = latest.flatMap((row) => (row._max.createdAt ? [{ conversationId: row.conversationId, createdAt: row._max.createdAt }] : []));
      if (keys.length === 0) return [];
      return db.message.findMany({ where: { tenantId, OR: keys }, orderBy: { id: 'desc' }, select });
    },
  };
}
