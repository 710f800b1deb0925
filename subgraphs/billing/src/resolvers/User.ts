import type { PageArgs } from '@firefly/server-kit';
import type { BillingContext } from '../context.ts';

/** Billing's fields of the User entity; every list goes through a per-request loader batched over user ids. */
export const User = {
  // Nothing to load: billing keeps no user row. Another tenant's id simply finds no account, ledger or orders.
  __resolveReference: (reference: { id: string }) => reference,
  creditBalance: (user: { id: string }, _: unknown, ctx: BillingContext) => ctx.loaders.balance.load(user.id),
  ledger: (user: { id: string }, args: PageArgs, ctx: BillingContext) => ctx.loaders.ledgerPages.load(user.id, args),
  orders: (user: { id: string }, args: PageArgs, ctx: BillingContext) => ctx.loaders.orderPages.load(user.id, args),
};
