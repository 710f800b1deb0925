import type { ConversationDb } from '@firefly/db';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true } as const;

/** The platform-wide chat model catalog (not tenant data). */
export function createChatModelRepository(db: ConversationDb) {
  return {
    listActive() {
      return db.chatModel.findMany({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select });
    },
    findByIds(ids: readonly string[]) {
      return db.chatModel.findMany({ where: { id: { in: [...ids] } }, select });
    },
  };
}
