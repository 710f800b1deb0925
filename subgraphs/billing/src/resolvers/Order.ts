import { visibleToCaller } from '@firefly/server-kit';
import type { BillingContext } from '../context.ts';
import type { OrderView } from '../data/orders.ts';

export const Order = {
  __resolveReference: async (reference: { id: string }, ctx: BillingContext) => visibleToCaller(ctx, await ctx.loaders.order.load(reference.id)),
  owner: (order: OrderView) => ({ id: order.userId }),
  product: (order: OrderView, _: unknown, ctx: BillingContext) => ctx.loaders.product.load(order.productId),
  payment: (order: OrderView) =>
    order.status === 'PENDING' ? { qrCodeUrl: order.qrCodeUrl, payUrl: order.payUrl, expiresAt: order.expiresAt } : null,
};
