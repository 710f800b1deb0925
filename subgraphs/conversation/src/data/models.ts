import type { ConversationDb } from '@firefly/db';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true, active: true } as const;

export type ChatModelRow = Awaited<ReturnType<ReturnType<typeof createChatModelRepository>['findByIds']>>[number];

/** The platform-wide chat model catalog (not tenant data). */
export function createChatModelRepository(db: ConversationDb) {
  return {
    listActive() {
      return db.chatModel.findMany({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select });
    },
    findByIds(ids: readonly string[]) {
      return db.chatModel.findMany({ where: { id: { in: [...ids] } }, select });
    },
    findById(id: string) {
      return db.chatModel.findUnique({ where: { id }, select });
    },
    /** The default for new conversations: the first active model of the catalog. */
    findDefault() {
      return db.chatModel.findFirst({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select });
    },
  };
}

export type ChatModelRepository = ReturnType<typeof createChatModelRepository>;
