import type { BillingContext } from '../context.ts';
import { quoteChatCost, quoteImageCost } from '../domain/quote-cost.ts';
import { canSeeOrder } from './access.ts';

export const Query = {
  products: (_: unknown, __: unknown, ctx: BillingContext) => ctx.products.listActive(),
  /** Another user's (or tenant's) order answers null, exactly like a missing one. */
  order: async (_: unknown, args: { id: string }, ctx: BillingContext) => {
    const row = await ctx.loaders.order.load(args.id);
    return row && canSeeOrder(ctx.identity, row) ? row : null;
  },
  chatCost: (_: unknown, args: { modelId: string; inputTokens: number; outputTokens: number }, ctx: BillingContext) => quoteChatCost(ctx.prices, args),
  imageCost: (_: unknown, args: { modelId: string; size: string; count: number }, ctx: BillingContext) => quoteImageCost(ctx.prices, args),
};
