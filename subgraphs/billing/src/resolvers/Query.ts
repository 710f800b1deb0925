import { parsePage, toConnection, visibleToCaller } from '@firefly/server-kit';
import { quoteChatCost, quoteImageCost } from '../domain/quote-cost.ts';
import type { QueryResolvers } from '../generated/resolvers-types.ts';

export const Query: QueryResolvers = {
  products: (_, __, ctx) => ctx.products.listActive(),
  /** Another user's (or tenant's) order answers null, exactly like a missing one. */
  order: async (_, args, ctx) => visibleToCaller(ctx, await ctx.loaders.order.load(args.id)),
  adminOrders: async (_, args, ctx) => {
    const page = parsePage(args);
    return toConnection(await ctx.orders.listForAdmin({ status: args.status, userId: args.userId }, page), page.take);
  },
  chatCost: (_, args, ctx) => quoteChatCost(ctx.services.prices, args),
  imageCost: (_, args, ctx) => quoteImageCost(ctx.services.prices, args),
};
