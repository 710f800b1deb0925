// Compile-time checks of the per-domain views, run by `tsc --noEmit -p packages/db`; never executed.
import type { BillingDb, ConversationDb, Db, ImageDb, TenantScoped, UserDb } from './index.ts';
import { scopeToTenant } from './index.ts';

export async function viewChecks(db: Db): Promise<void> {
  // The full client and a tenant-scoped one both fit every view.
  const user: UserDb = db;
  const billing: BillingDb = scopeToTenant(db, 'tenant');
  const conversation: ConversationDb = db;
  const image: ImageDb = scopeToTenant(db, 'tenant');

  // Repositories that serve a request take a TenantScoped view: only scopeToTenant makes one.
  const scopedUser: TenantScoped<UserDb> = scopeToTenant(user, 'tenant');
  // @ts-expect-error the process-wide client is not a tenant-scoped one
  const unscoped: TenantScoped<UserDb> = db;
  void scopedUser;
  void unscoped;

  // @ts-expect-error a view has no delegate of another domain
  void user.order;
  // @ts-expect-error a view has no delegate of another domain
  void conversation.imageJob;

  await user.$transaction(async (tx) => {
    await tx.user.findMany();
    // @ts-expect-error nor does its transaction client
    await tx.order.findMany();
  });

  const [orders, products] = await billing.$transaction([billing.order.findMany(), billing.product.count()]);
  const count: number = products;
  void orders;
  void count;
  void image.image.findMany();
}
