import type { UserResolvers } from '../generated/resolvers-types.ts';

/** Billing's fields of the User entity; every list goes through a per-request loader batched over user ids. */
export const User: UserResolvers = {
  // Nothing to load: billing keeps no user row. Another tenant's id simply finds no account, ledger or orders.
  __resolveReference: (reference) => reference,
  creditBalance: (user, _, ctx) => ctx.loaders.balance.load(user.id),
  ledger: (user, args, ctx) => ctx.loaders.ledgerPages.load(user.id, args),
  orders: (user, args, ctx) => ctx.loaders.orderPages.load(user.id, args),
};
