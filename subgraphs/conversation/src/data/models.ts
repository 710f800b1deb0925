import { recordAudit, transact, type AuditActor, type ConversationDb } from '@firefly/db';
import type { ChatModelCatalog, ChatModelRow } from '../domain/ports.ts';
import type { NewChatModel } from '../domain/upsert-chat-model.ts';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true, active: true, provider: true } as const;

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

/**
 * upsertChatModel's write: creates the model (last in the catalog's order, so it does not become the default of new
 * conversations) or changes it, and appends the audit event in the same transaction.
 */
export function createChatModelWriter(db: ConversationDb) {
  const withProvider = { ...select, provider: true } as const;
  return {
    save(model: NewChatModel, by: AuditActor, extra: Record<string, unknown>): Promise<ChatModelRow> {
      const { id, active, ...fields } = model;
      return transact(db, async (tx) => {
        const before = await tx.chatModel.findUnique({ where: { id }, select: withProvider });
        let after;
        if (before) {
          after = await tx.chatModel.update({ where: { id }, data: { ...fields, ...(active === undefined ? {} : { active }) }, select: withProvider });
        } else {
          const last = await tx.chatModel.aggregate({ _max: { sortOrder: true } });
          after = await tx.chatModel.create({ data: { id, ...fields, active: active ?? true, sortOrder: (last._max.sortOrder ?? 0) + 10 }, select: withProvider });
        }
        await recordAudit(tx, { ...by, action: 'upsertChatModel', targetType: 'ChatModel', targetId: id, details: { before, after, ...extra } });
        return after;
      });
    },
  };
}
