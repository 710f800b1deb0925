import type { ConversationDb } from '@firefly/db';
import type { ChatModelCatalog } from '../domain/ports.ts';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true, active: true } as const;

/** The platform-wide chat model catalog (not tenant data). */
export function createChatModelRepository(db: ConversationDb): ChatModelCatalog {
  return {
    listActive() {
      return db.chatModel.findMany({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select });
    },
    findByIds(ids) {
      return db.chatModel.findMany({ where: { id: { in: [...ids] } }, select });
    },
    findById(id) {
      return db.chatModel.findUnique({ where: { id }, select });
    },
    /** The default for new conversations: the first active model of the catalog. */
    findDefault() {
      return db.chatModel.findFirst({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select });
    },
  };
}
