import { recordAudit, transact, type AuditActor, type BillingDb, type TenantScoped } from '@firefly/db';

const select = { id: true, name: true, credits: true, priceFen: true, active: true } as const;

export type ProductView = { id: string; name: string; credits: number; priceFen: number; active: boolean };

/** Credit packs of one tenant. */
export function createProductRepository(db: TenantScoped<BillingDb>, tenantId: string) {
  return {
    listActive: (): Promise<ProductView[]> =>
      db.product.findMany({ where: { tenantId, active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select }),
    /** Inactive ones included: an old order still shows the pack it bought. */
    findByIds: (ids: readonly string[]): Promise<ProductView[]> => db.product.findMany({ where: { tenantId, id: { in: [...ids] } }, select }),
    /** Creates the product and its audit event (`upsertProduct`) in one transaction. */
    create: (product: ProductView, by: AuditActor): Promise<ProductView> =>
      transact(db, async (tx) => {
        const row = await tx.product.create({ data: { ...product, tenantId }, select });
        await recordAudit(tx, { ...by, action: 'upsertProduct', targetType: 'Product', targetId: row.id, details: { before: null, after: row } });
        return row;
      }),
    /** `null` when the tenant has no product with this id. The change and its audit event commit together. */
    update: (id: string, changes: Omit<ProductView, 'id' | 'active'> & { active?: boolean }, by: AuditActor): Promise<ProductView | null> =>
      transact(db, async (tx) => {
        const before = await tx.product.findFirst({ where: { id, tenantId }, select });
        if (!before) return null;
        await tx.product.updateMany({ where: { id, tenantId }, data: changes });
        const after = (await tx.product.findFirst({ where: { id, tenantId }, select }))!;
        await recordAudit(tx, { ...by, action: 'upsertProduct', targetType: 'Product', targetId: id, details: { before, after } });
        return after;
      }),
  };
}
