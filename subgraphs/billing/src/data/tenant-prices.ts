import { recordAudit, transact, type BillingDb } from '@firefly/db';
import type { TenantChatPriceView, TenantImagePriceView, TenantPriceStore } from '../domain/tenant-prices.ts';

/** The newest row per model of rows sorted newest first. */
function newestPerModel<T extends { modelId: string }>(rows: readonly T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    if (seen.has(row.modelId)) return false;
    seen.add(row.modelId);
    return true;
  });
}

const chatView = (row: { tenantId: string; modelId: string; validFrom: Date; inputPer1kTokens: number | null; outputPer1kTokens: number | null }): TenantChatPriceView | null =>
  row.inputPer1kTokens === null || row.outputPer1kTokens === null
    ? null
    : { tenantId: row.tenantId, modelId: row.modelId, inputPricePer1k: row.inputPer1kTokens, outputPricePer1k: row.outputPer1kTokens, validFrom: row.validFrom };

const imageView = (row: { tenantId: string; modelId: string; validFrom: Date; perImage: number | null }): TenantImagePriceView | null =>
  row.perImage === null ? null : { tenantId: row.tenantId, modelId: row.modelId, pricePerImage: row.perImage, validFrom: row.validFrom };

/** What an audit event shows of an override: the prices, or null for none (the platform's price). */
const chatAudit = (view: TenantChatPriceView | null) => (view ? { inputPricePer1k: view.inputPricePer1k, outputPricePer1k: view.outputPricePer1k } : null);
const imageAudit = (view: TenantImagePriceView | null) => (view ? { pricePerImage: view.pricePerImage } : null);

/**
 * The tenants' own prices, written by platform admins for any tenant (the process-wide client): each change appends a
 * version valid from its moment, and its audit event, in one transaction; no earlier version is changed or deleted, so
 * a reservation is always priced at the version in force when it was made (prices.ts reads them). Two changes in the
 * same millisecond: the later one is that moment's version.
 */
export function createTenantPriceStore(db: BillingDb): TenantPriceStore {
  return {
    async setChatPrice(tenantId, modelId, price, now, by) {
      return transact(db, async (tx) => {
        if (!(await tx.chatPrice.findUnique({ where: { modelId }, select: { modelId: true } }))) return null;
        const current = await tx.tenantChatPriceVersion.findFirst({ where: { tenantId, modelId }, orderBy: { validFrom: 'desc' } });
        const data = { inputPer1kTokens: price?.inputPer1kTokens ?? null, outputPer1kTokens: price?.outputPer1kTokens ?? null };
        const row = await tx.tenantChatPriceVersion.upsert({
          where: { tenantId_modelId_validFrom: { tenantId, modelId, validFrom: now } },
          create: { tenantId, modelId, validFrom: now, ...data },
          update: data,
        });
        const after = chatView(row);
        const before = current ? chatView(current) : null;
        await recordAudit(tx, { ...by, action: 'setTenantChatPrice', targetType: 'ChatModel', targetId: modelId, details: { tenantId, before: chatAudit(before), after: chatAudit(after) } });
        return { after };
      });
    },
    async setImagePrice(tenantId, modelId, perImage, now, by) {
      return transact(db, async (tx) => {
        if (!(await tx.imagePrice.findFirst({ where: { modelId }, select: { modelId: true } }))) return null;
        const current = await tx.tenantImagePriceVersion.findFirst({ where: { tenantId, modelId }, orderBy: { validFrom: 'desc' } });
        const row = await tx.tenantImagePriceVersion.upsert({
          where: { tenantId_modelId_validFrom: { tenantId, modelId, validFrom: now } },
          create: { tenantId, modelId, validFrom: now, perImage },
          update: { perImage },
        });
        const after = imageView(row);
        const before = current ? imageView(current) : null;
        await recordAudit(tx, { ...by, action: 'setTenantImagePrice', targetType: 'ImageModel', targetId: modelId, details: { tenantId, before: imageAudit(before), after: imageAudit(after) } });
        return { after };
      });
    },
    async chatPricesOf(tenantId) {
      const rows = await db.tenantChatPriceVersion.findMany({ where: { tenantId }, orderBy: [{ validFrom: 'desc' }] });
      return newestPerModel(rows)
        .map(chatView)
        .filter((view): view is TenantChatPriceView => view !== null)
        .sort((a, b) => a.modelId.localeCompare(b.modelId));
    },
    async imagePricesOf(tenantId) {
      const rows = await db.tenantImagePriceVersion.findMany({ where: { tenantId }, orderBy: [{ validFrom: 'desc' }] });
      return newestPerModel(rows)
        .map(imageView)
        .filter((view): view is TenantImagePriceView => view !== null)
        .sort((a, b) => a.modelId.localeCompare(b.modelId));
    },
  };
}
