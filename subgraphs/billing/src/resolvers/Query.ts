import { notFound } from '@firefly/errors';
import { parsePage, toConnection, visibleToCaller } from '@firefly/server-kit';
import type { BillingContext } from '../context.ts';
import { quoteChatCost, quoteImageCost, quoteReservedChatCost } from '../domain/quote-cost.ts';
import { tenantOverrides } from '../domain/tenant-prices.ts';
import type { QueryResolvers } from '../generated/resolvers-types.ts';

/** The tenant's reservation (NOT_FOUND for another tenant's or a missing one), whose prices its settlement uses. */
async function reservationOf(ctx: BillingContext, reservationId: string) {
  const reservation = await ctx.scope.store.findReservation(reservationId, ctx.tenantId);
  if (!reservation) throw notFound('Reservation', { field: 'reservationId' });
  return reservation;
}

export const Query: QueryResolvers = {
  products: (_, __, ctx) => ctx.products.listActive(),
  /** Another user's (or tenant's) order answers null, exactly like a missing one. */
  order: async (_, args, ctx) => visibleToCaller(ctx, await ctx.loaders.order.load(args.id)),
  adminOrders: async (_, args, ctx) => {
    const page = parsePage(args);
    return toConnection(await ctx.orders.listForAdmin({ status: args.status, userId: args.userId }, page), page.take);
  },
  tenantOverrides: (_, args, ctx) => tenantOverrides(ctx.tenantPrices, ctx, args.tenantId),
  chatCost: async (_, { reservationId, ...args }, ctx) =>
    reservationId == null
      ? quoteChatCost(ctx.services.prices, { ...args, tenantId: ctx.tenantId })
      : quoteReservedChatCost(ctx.services.prices, await reservationOf(ctx, reservationId), { ...args, tenantId: ctx.tenantId }),
  imageCost: async (_, { reservationId, ...args }, ctx) =>
    quoteImageCost(ctx.services.prices, { ...args, tenantId: ctx.tenantId, at: reservationId == null ? undefined : (await reservationOf(ctx, reservationId)).createdAt }),
};
