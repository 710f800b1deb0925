import { loadRequired, visibleToCaller } from '@firefly/server-kit';
import type { OrderResolvers } from '../generated/resolvers-types.ts';

export const Order: OrderResolvers = {
  __resolveReference: async (reference, ctx) => visibleToCaller(ctx, await ctx.loaders.order.load(reference.id)),
  owner: (order) => ({ id: order.userId }),
  product: (order, _, ctx) => loadRequired(ctx.loaders.product, order.productId, 'product'),
  payment: (order) => order.status === 'PENDING' ? { qrCodeUrl: order.qrCodeUrl, payUrl: order.payUrl, expiresAt: order.expiresAt } : null,
  payments: (order, _, ctx) => ctx.loaders.orderPayments.load(order.id),
  refunds: (order, _, ctx) => ctx.loaders.orderRefunds.load(order.id),
  notifications: (order, _, ctx) => ctx.loaders.orderNotifications.load(order.id),
};
