import { recordAudit, transact, type AuditActor, type ConversationDb, type TenantScoped } from '@firefly/db';
import type { ChatModelCatalog, ChatModelRow } from '../domain/ports.ts';
import type { NewChatModel } from '../domain/upsert-chat-model.ts';
import type { TenantChatModelRow } from '../domain/tenant-chat-models.ts';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true, active: true, provider: true } as const;
const order = [{ sortOrder: 'asc' }, { id: 'asc' }] as const;

/**
 * The chat model catalog as one tenant sees it: the platform-wide rows, where a model the tenant has hidden
 * (TenantChatModel, read through the tenant-scoped client) reads as inactive — out of `chatModels`, refused to new
 * conversations and answers by the same checks as a deactivated model. The overrides are read with the models, in
 * parallel, so a lookup costs no extra round trip in sequence.
 */
export function createChatModelRepository(db: ConversationDb, tenantDb: TenantScoped<ConversationDb>): ChatModelCatalog {
  const hiddenIds = async (): Promise<Set<string>> =>
    new Set((await tenantDb.tenantChatModel.findMany({ where: { hidden: true }, select: { modelId: true } })).map((row) => row.modelId));
  const asSeen = <T extends { id: string; active: boolean }>(row: T, hidden: ReadonlySet<string>): T => (hidden.has(row.id) ? { ...row, active: false } : row);
  return {
    async listActive() {
      const [rows, hidden] = await Promise.all([db.chatModel.findMany({ where: { active: true }, orderBy: [...order], select }), hiddenIds()]);
      return rows.filter((row) => !hidden.has(row.id));
    },
    async findByIds(ids) {
      const [rows, hidden] = await Promise.all([db.chatModel.findMany({ where: { id: { in: [...ids] } }, select }), hiddenIds()]);
      return rows.map((row) => asSeen(row, hidden));
    },
    async findById(id) {
      const [row, override] = await Promise.all([
        db.chatModel.findUnique({ where: { id }, select }),
        tenantDb.tenantChatModel.findFirst({ where: { modelId: id, hidden: true }, select: { modelId: true } }),
      ]);
      return row && override ? { ...row, active: false } : row;
    },
    /** The default for new conversations: the first active model of the catalog the tenant has not hidden. */
    async findDefault() {
      const hidden = await hiddenIds();
      return db.chatModel.findFirst({ where: { active: true, ...(hidden.size > 0 ? { id: { notIn: [...hidden] } } : {}) }, orderBy: [...order], select });
    },
  };
}

/**
 * setTenantChatModel's write, by a platform admin for any tenant (the process-wide client): the override and its
 * audit event in one transaction. `null` when there is no such model.
 */
export function createTenantChatModelWriter(db: ConversationDb) {
  return {
    set(override: { tenantId: string; modelId: string; hidden: boolean }, by: AuditActor): Promise<TenantChatModelRow | null> {
      const { tenantId, modelId, hidden } = override;
      return transact(db, async (tx) => {
        if (!(await tx.chatModel.findUnique({ where: { id: modelId }, select: { id: true } }))) return null;
        const key = { tenantId_modelId: { tenantId, modelId } };
        const before = await tx.tenantChatModel.findUnique({ where: key, select: { hidden: true } });
        const after = await tx.tenantChatModel.upsert({ where: key, create: { tenantId, modelId, hidden }, update: { hidden } });
        await recordAudit(tx, {
          ...by,
          action: 'setTenantChatModel',
          targetType: 'ChatModel',
          targetId: modelId,
          details: { tenantId, before: { hidden: before?.hidden ?? false }, after: { hidden } },
        });
        return after;
      });
    },
    /** The chat models hidden from a tenant (tenantOverrides), by model id. */
    listHidden(tenantId: string): Promise<TenantChatModelRow[]> {
      return db.tenantChatModel.findMany({ where: { tenantId, hidden: true }, orderBy: { modelId: 'asc' } });
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
