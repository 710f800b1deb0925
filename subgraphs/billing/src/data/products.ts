import type { BillingDb, TenantScoped } from '@firefly/db';

const select = { id: true, name: true, credits: true, priceFen: true, active: true } as const;

export type ProductView = { id: string; name: string; credits: number; priceFen: number; active: boolean };

/** Credit packs of one tenant. */
export function createProductRepository(db: TenantScoped<BillingDb>, tenantId: string) {
  return {
    listActive: (): Promise<ProductView[]> =>
      db.product.findMany({ where: { tenantId, active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }], select }),
    /** Inactive ones included: an old order still shows the pack it bought. */
    findByIds: (ids: readonly string[]): Promise<ProductView[]> => db.product.findMany({ where: { tenantId, id: { in: [...ids] } }, select }),
    create: (product: ProductView): Promise<ProductView> => db.product.create({ data: { ...product, tenantId }, select }),
    /** `null` when the tenant has no product with this id. */
    async update(id: string, changes: Omit<ProductView, 'id' | 'active'> & { active?: boolean }): Promise<ProductView | null> {
      const { count } = await db.product.updateMany({ where: { id, tenantId }, data: changes });
      return count === 0 ? null : db.product.findFirst({ where: { id, tenantId }, select });
    },
  };
}
