import { visibleToCaller } from '@firefly/server-kit';
import type { BillingContext } from '../context.ts';
import { quoteChatCost, quoteImageCost } from '../domain/quote-cost.ts';

export const Query = {
  products: (_: unknown, __: unknown, ctx: BillingContext) => ctx.products.listActive(),
  /** Another user's (or tenant's) order answers null, exactly like a missing one. */
  order: async (_: unknown, args: { id: string }, ctx: BillingContext) => visibleToCaller(ctx, await ctx.loaders.order.load(args.id)),
  chatCost: (_: unknown, args: { modelId: string; inputTokens: number; outputTokens: number }, ctx: BillingContext) => quoteChatCost(ctx.services.prices, args),
  imageCost: (_: unknown, args: { modelId: string; size: string; count: number }, ctx: BillingContext) => quoteImageCost(ctx.services.prices, args),
};
