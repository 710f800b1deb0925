import { randomUUID } from 'node:crypto';
import type { PaymentChannel } from '@firefly/db';
import { badUserInput, conflict, notFound, notImplemented, rateLimited, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { OrderRow, OrderStore } from '../data/order-store.ts';
import { ProviderError, type PaymentProvider, type PaymentProviders } from './payment-ports.ts';
import { requireKey } from './validate.ts';
import type { PaymentEvents } from './payment-events.ts';

/** Settings of the order use cases. */
export interface OrderSettings {
  /** A PENDING order closes unpaid after this long (ORDER_TTL_SECONDS, default 900). */
  orderTtlSeconds: number;
  /** Open (PENDING, unexpired) orders per user (ORDER_MAX_OPEN_PER_USER, default 5). */
  maxOpenPerUser: number;
}

/** What the order use cases need: storage, the configured payment channels, settings, a logger. */
export interface PaymentScope {
  orders: OrderStore;
  providers: PaymentProviders;
  settings: OrderSettings;
  logger: Logger;
  events?: PaymentEvents;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
}

const CHANNELS: readonly PaymentChannel[] = ['ALIPAY', 'WECHAT'];

function providerFor(scope: PaymentScope, channel: PaymentChannel): PaymentProvider {
  const provider = scope.providers[channel];
  if (!provider) throw notImplemented('payments', `${channel} payments are not configured on this server`);
  return provider;
}

/** A provider failure as the client sees it: UPSTREAM_UNAVAILABLE, with the channel and the provider's code. */
function unavailable(error: unknown, what: string): never {
  if (error instanceof ProviderError) throw upstreamUnavailable(`${what}: the payment channel is not answering, try again`, { channel: error.channel, providerCode: error.code }, error);
  throw error;
}

/**
 * A PENDING order for one product: price and credits copied from the product now (later price changes do not
 * touch it), an expiry of ORDER_TTL_SECONDS, and the provider's payment instruction. The order is written before the
 * provider is called, so a crash in between leaves a PENDING order that the expiry sweep closes; a provider failure
 * closes it at once and answers UPSTREAM_UNAVAILABLE.
 */
export async function createOrder(scope: PaymentScope, input: { tenantId: string; userId: string; productId: string; channel: PaymentChannel }): Promise<OrderRow> {
  requireKey(input.productId, 'productId');
  if (!CHANNELS.includes(input.channel)) throw badUserInput('channel must be ALIPAY or WECHAT', { field: 'channel' });
  const provider = providerFor(scope, input.channel);
  const product = await scope.orders.findProduct(input.tenantId, input.productId);
  if (!product || !product.active) throw notFound('Product', { field: 'productId' });

  const now = scope.now?.() ?? new Date();
  await refuseOverLimit(scope, input, now);

  const id = randomUUID();
  const order = await scope.orders.insert({
    id,
    tenantId: input.tenantId,
    userId: input.userId,
    productId: product.id,
    amountFen: product.priceFen,
    credits: product.credits,
    channel: input.channel,
    // WeChat's out_trade_no allows 6-32 characters of [0-9A-Za-z_-|*]: the id without its dashes (32 hex digits).
    outTradeNo: id.replace(/-/g, ''),
    expiresAt: new Date(now.getTime() + scope.settings.orderTtlSeconds * 1_000),
    createdAt: now,
  });
  // Two concurrent creates may both have passed the check above: the one that finds itself over the limit backs out.
  const open = await scope.orders.listOpen(input.tenantId, input.userId, now);
  if (open.length > scope.settings.maxOpenPerUser && open.findIndex((o) => o.id === id) >= scope.settings.maxOpenPerUser) {
    await scope.orders.closeIfPending(id, now);
    throw limitError(scope, open, now);
  }

  let instruction;
  try {
    instruction = await provider.start({ outTradeNo: order.outTradeNo, amountFen: order.amountFen, subject: product.name, expiresAt: order.expiresAt });
  } catch (error) {
    await scope.orders.closeIfPending(id, now);
    scope.logger.warn({ err: error, orderId: id, channel: input.channel }, 'payment channel refused or failed to create the trade; order closed');
    return unavailable(error, 'The order could not be created');
  }
  await scope.orders.setInstruction(id, instruction);
  scope.logger.info({ orderId: id, channel: input.channel, amountFen: order.amountFen, productId: product.id }, 'order created');
  const created = { ...order, ...instruction };
  scope.events?.orderCreated?.(created);
  return created;
}

async function refuseOverLimit(scope: PaymentScope, input: { tenantId: string; userId: string }, now: Date): Promise<void> {
  const open = await scope.orders.listOpen(input.tenantId, input.userId, now);
  if (open.length >= scope.settings.maxOpenPerUser) throw limitError(scope, open, now);
}

function limitError(scope: PaymentScope, open: ReadonlyArray<{ expiresAt: Date }>, now: Date) {
  const soonest = Math.min(...open.map((o) => o.expiresAt.getTime()));
  const retryAfterSeconds = Math.max(1, Math.ceil((soonest - now.getTime()) / 1_000));
  return rateLimited(retryAfterSeconds, `At most ${scope.settings.maxOpenPerUser} unpaid orders at once: pay or cancel one first`);
}

/**
 * Closes a PENDING order: first at the provider (so it can no longer be paid), then here. Cancelling a CLOSED order
 * returns it unchanged. When the provider refuses to close because the trade was paid meanwhile, the order is
 * settled from the provider's answer instead (`settle`), and the buyer gets the credits.
 */
export async function cancelOrder(
  scope: PaymentScope,
  order: OrderRow,
  settle: (order: OrderRow) => Promise<OrderRow>,
): Promise<OrderRow> {
  if (order.status === 'CLOSED') return order;
  if (order.status !== 'PENDING') throw conflict(`Only a PENDING order can be cancelled; this one is ${order.status}`, { status: order.status });
  const provider = scope.providers[order.channel];
  let outcome: 'closed' | 'not-closable' = 'closed';
  if (provider) {
    try {
      outcome = await provider.close(order.outTradeNo);
    } catch (error) {
      return unavailable(error, 'The order could not be cancelled');
    }
  } else {
    scope.logger.warn({ orderId: order.id, channel: order.channel }, 'channel no longer configured: order closed here only');
  }
  if (outcome === 'not-closable') return settle(order);
  const now = scope.now?.() ?? new Date();
  await scope.orders.closeIfPending(order.id, now);
  const current = await scope.orders.find(order.tenantId, order.id);
  if (!current) throw new Error(`order ${order.id} disappeared`);
  return current;
}
