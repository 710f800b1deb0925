import { Prisma, recordAudit, transact, type AuditActor, type ConversationDb, type Db, type TenantScoped } from '@firefly/db';
import type { ChatModelCatalog, ChatModelRow } from '../domain/ports.ts';
import type { NewChatModel } from '../domain/upsert-chat-model.ts';
import type { TenantChatModelRow } from '../domain/tenant-chat-models.ts';

const select = { id: true, name: true, description: true, maxInputTokens: true, maxOutputTokens: true, active: true, provider: true } as const;
const order = [{ sortOrder: 'asc' }, { id: 'asc' }] as const;

/**
 * The chat model catalog as one tenant sees it: the platform-wide rows, where a model the tenant has hidden
 * (TenantChatModel, read through the tenant-scoped client) reads as inactive — out of `chatModels`, refused to new
 * conversations and answers by the same checks as a deactivated model. The overrides are read with the models, in
 * parallel, so a lookup costs no extra round trip in sequence. findByIds (the `model` of every listed conversation,
 * through the request's DataLoader) reads both in one raw statement instead, the tenant named explicitly (`sql`:
 * raw SQL is not tenant-scoped).
 */
export function createChatModelRepository(db: ConversationDb, tenantDb: TenantScoped<ConversationDb>, tenantId: string, sql: Pick<Db, '$queryRaw'>): ChatModelCatalog {
  const hiddenIds = async (): Promise<Set<string>> =>
    new Set((await tenantDb.tenantChatModel.findMany({ where: { hidden: true }, select: { modelId: true } })).map((row) => row.modelId));
  return {
    async listActive() {
      const [rows, hidden] = await Promise.all([db.chatModel.findMany({ where: { active: true }, orderBy: [...order], select }), hiddenIds()]);
      return rows.filter((row) => !hidden.has(row.id));
    },
    /**
     * The models and the tenant's hiding of them in one statement (a LEFT JOIN by TenantChatModel's primary key):
     * the same rows as findMany + hiddenIds, one statement and one Prisma query less on every list of conversations.
     */
    async findByIds(ids) {
      if (ids.length === 0) return [];
      const rows = await sql.$queryRaw<ChatModelJoinRow[]>(Prisma.sql`
        SELECT m.\`id\` AS \`m_id\`, m.\`name\` AS \`m_name\`, m.\`description\` AS \`m_description\`, m.\`maxInputTokens\` AS \`m_maxInputTokens\`,
               m.\`maxOutputTokens\` AS \`m_maxOutputTokens\`, m.\`active\` AS \`m_active\`, m.\`provider\` AS \`m_provider\`,
               t.\`hidden\` AS \`hiddenForTenant\`
        FROM \`ChatModel\` m
        LEFT JOIN \`TenantChatModel\` t ON t.\`tenantId\` = ${tenantId} AND t.\`modelId\` = m.\`id\` AND t.\`hidden\` = TRUE
        WHERE m.\`id\` IN (${Prisma.join([...ids])})`);
      return rows.map((row) => chatModelOf(row)!);
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

/** A ChatModel row as raw SQL reads it (columns `m_`, null when a LEFT JOIN found none) with the tenant's hiding of it. */
export interface ChatModelJoinRow {
  m_id: string | null;
  m_name: string | null;
  m_description: string | null;
  m_maxInputTokens: number | bigint | null;
  m_maxOutputTokens: number | bigint | null;
  m_active: boolean | number | bigint | null;
  m_provider: string | null;
  /** 1 when the tenant has hidden the model. */
  hiddenForTenant: boolean | number | bigint | null;
}

/** The model of a {@link ChatModelJoinRow}; null without one. Hidden from the tenant reads as inactive, as in the catalog. */
export function chatModelOf(row: ChatModelJoinRow): ChatModelRow | null {
  if (row.m_id === null) return null;
  return {
    id: row.m_id,
    name: row.m_name!,
    description: row.m_description,
    maxInputTokens: Number(row.m_maxInputTokens),
    maxOutputTokens: Number(row.m_maxOutputTokens),
    active: truthy(row.m_active) && !truthy(row.hiddenForTenant),
    provider: row.m_provider!,
  };
}

/** A BOOLEAN (TINYINT(1)) column as raw SQL answers it: a boolean, or 0/1. */
export function truthy(value: boolean | number | bigint | null): boolean {
  return value !== null && value !== false && Number(value) !== 0;
}
