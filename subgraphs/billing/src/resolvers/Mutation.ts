import { conflict, forbidden, notFound, unauthenticated, upstreamUnavailable } from '@firefly/errors';
import { actorOf, auditBy, visibleToCaller } from '@firefly/server-kit';
import type { BillingContext } from '../context.ts';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { grantSignupCredits } from '../domain/grant-signup-credits.ts';
import { cancelOrder, createOrder } from '../domain/orders.ts';
import { settleFromTrade } from '../domain/reconcile.ts';
import { setChatPrice, setImagePrice } from '../domain/quote-cost.ts';
import { refundOrder } from '../domain/refunds.ts';
import type { OrderRow } from '../data/order-store.ts';
import { releaseReservation } from '../domain/release-reservation.ts';
import { reserveCredits } from '../domain/reserve-credits.ts';
import { reserveChatCredits } from '../domain/reserve-chat-credits.ts';
import { reserveImageCredits } from '../domain/reserve-image-credits.ts';
import { settleReservation } from '../domain/settle-reservation.ts';
import { setTenantChatPrice, setTenantImagePrice } from '../domain/tenant-prices.ts';
import { upsertProduct } from '../domain/upsert-product.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

function callerUserId(ctx: BillingContext): string {
  if (ctx.identity.kind !== 'user') throw unauthenticated();
  return ctx.identity.userId;
}

/**
 * The partner whose API key made the request a hold is for: the calling service passes on the gateway's partner tag
 * inside its signed service credential. Never read from arguments or headers, so no client can set or forge it.
 */
function partnerOf(ctx: BillingContext): string | null {
  return ctx.identity.kind === 'service' ? (ctx.identity.partner?.partnerId ?? null) : null;
}

/**
 * The provider would not close the trade (it was paid meanwhile): settle it from the provider's answer, exactly as
 * its notification would, and return the now PAID order.
 */
async function settleFromProvider(ctx: BillingContext, order: OrderRow): Promise<OrderRow> {
  const provider = ctx.payments.providers[order.channel];
  if (!provider) throw conflict('The order could not be closed at the payment channel', { status: order.status });
  const trade = await provider.query(order.outTradeNo).catch((error: unknown) => {
    throw upstreamUnavailable('The payment channel is not answering, try again', undefined, error);
  });
  if (trade.state === 'PAID') {
    const outcome = await settleFromTrade({ orders: ctx.payments.orders, store: ctx.services.store, logger: ctx.logger, events: ctx.services.events }, order, trade);
    if (outcome.kind === 'credited' || outcome.kind === 'duplicate') return outcome.order;
  }
  throw conflict(`The payment channel reports the trade as ${trade.state}; try again`, { status: order.status });
}

export const Mutation: MutationResolvers = {
  createOrder: (_, args, ctx) =>
    createOrder(ctx.payments, { tenantId: ctx.tenantId, userId: callerUserId(ctx), productId: args.productId, channel: args.channel }),
  /** Another user's (or tenant's) order is NOT_FOUND, exactly like a missing one. */
  cancelOrder: async (_, args, ctx) => {
    const order = visibleToCaller(ctx, await ctx.payments.orders.find(ctx.tenantId, args.id));
    if (!order) throw notFound('Order', { field: 'id' });
    return cancelOrder(ctx.payments, order, (pending) => settleFromProvider(ctx, pending));
  },
  refundOrder: (_, args, ctx) =>
    refundOrder(
      { orders: ctx.payments.orders, store: ctx.services.store, providers: ctx.payments.providers, logger: ctx.logger, events: ctx.services.events },
      { tenantId: ctx.tenantId, orderId: args.id, amountFen: args.amountFen, reason: args.reason, by: auditBy(ctx) },
    ),

  adjustCredits: (_, args, ctx) => adjustCredits(ctx.scope, { tenantId: ctx.tenantId, ...args, adminUserId: actorOf(ctx.identity), requestId: ctx.requestId }),
  upsertProduct: (_, args, ctx) => upsertProduct(ctx.catalog, { ...args.input, by: auditBy(ctx) }),
  setTenantChatPrice: (_, args, ctx) => setTenantChatPrice(ctx.tenantPrices, auditBy(ctx), args.input),
  setTenantImagePrice: (_, args, ctx) => setTenantImagePrice(ctx.tenantPrices, auditBy(ctx), args.input),

  // The internal API (service credential only, @inaccessible). The tenant is the one in the signed credential.
  reserveCredits: (_, args, ctx) => {
    const { tenantId, ...input } = args.input;
    if (tenantId != null && tenantId !== ctx.tenantId) throw forbidden("tenantId must be the credential's tenant");
    return reserveCredits(ctx.scope, { ...input, tenantId: ctx.tenantId, partnerId: partnerOf(ctx) });
  },
  reserveChatCredits: (_, args, ctx) => {
    const { tenantId, ...input } = args.input;
    if (tenantId != null && tenantId !== ctx.tenantId) throw forbidden("tenantId must be the credential's tenant");
    return reserveChatCredits(ctx.scope, ctx.services.prices, { ...input, tenantId: ctx.tenantId, partnerId: partnerOf(ctx) });
  },
  reserveImageCredits: (_, args, ctx) => {
    const { tenantId, ...input } = args.input;
    if (tenantId != null && tenantId !== ctx.tenantId) throw forbidden("tenantId must be the credential's tenant");
    return reserveImageCredits(ctx.scope, ctx.services.prices, { ...input, tenantId: ctx.tenantId, partnerId: partnerOf(ctx) });
  },
  settleReservation: async (_, args, ctx) => {
    const result = await settleReservation(ctx.scope, {
      tenantId: ctx.tenantId,
      reservationId: args.id,
      actualAmount: args.actualAmount,
      reason: args.reason,
      referenceId: args.referenceId,
    });
    return result.reservation;
  },
  releaseReservation: (_, args, ctx) => releaseReservation(ctx.scope, { tenantId: ctx.tenantId, reservationId: args.id }),
  setChatPrice: (_, args, ctx) => setChatPrice(ctx.services.prices, args),
  setImagePrice: (_, args, ctx) => setImagePrice(ctx.services.prices, args),
  grantSignupCredits: (_, args, ctx) => grantSignupCredits(ctx.scope, { tenantId: ctx.tenantId, userId: args.userId }),
};
