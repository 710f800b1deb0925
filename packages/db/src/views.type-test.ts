// Compile-time checks of the per-domain views, run by `tsc --noEmit -p packages/db` (never executed).
import type { Db, UserDb, BillingDb } from './index.ts';
import { scopeToTenant } from './index.ts';
declare const db: Db;
const u: UserDb = db;
const b: BillingDb = scopeToTenant(db, 'x');
await u.$transaction(async (tx) => { await tx.user.findMany(); 
  // @ts-expect-error other domain
  await tx.order.findMany(); });
// @ts-expect-error other domain
u.order;
const [a, c] = await b.$transaction([b.order.findMany(), b.product.count()]);
const n: number = c; void a; void n;
