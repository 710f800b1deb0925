import type { OrderRow } from '../data/order-store.ts';
import type { PaymentProviders, ProviderTrade } from './payment-ports.ts';
import { settlePayment, type SettleDeps, type SettleOutcome } from './settle-payment.ts';

export type ReconcileOutcome = SettleOutcome['kind'] | 'closed' | 'waiting';

export interface ReconcileDeps extends SettleDeps {
  providers: PaymentProviders;
  now?: () => Date;
}

/** Applies a trade the provider reports PAID as if its notification had come (same exactly-once path). */
export function settleFromTrade(deps: SettleDeps, order: OrderRow, trade: ProviderTrade): Promise<SettleOutcome> {
  return settlePayment(deps, {
    channel: order.channel,
    outTradeNo: order.outTradeNo,
    providerTradeNo: trade.providerTradeNo ?? `unknown:${order.outTradeNo}`,
    amountFen: trade.amountFen ?? -1,
    paidAt: trade.paidAt,
    payload: JSON.stringify({ source: 'query', ...trade }),
  });
}

/**
 * One PENDING order checked against its provider — how a lost notification still ends in credits, and how an order
 * past its expiry is closed: PAID at the provider → settled exactly once (settlePayment); still unpaid (or unknown
 * there, e.g. an Alipay QR nobody scanned) and expired → closed at the provider first, then here; closed at the
 * provider → closed here. Anything else waits for the next round.
 */
export async function reconcileOrder(deps: ReconcileDeps, order: OrderRow): Promise<ReconcileOutcome> {
  const now = deps.now?.() ?? new Date();
  const expired = order.expiresAt.getTime() <= now.getTime();
  const provider = deps.providers[order.channel];
  if (!provider) {
    if (!expired) return 'waiting';
    await deps.orders.closeIfPending(order.id, now);
    return 'closed';
  }
  const trade = await provider.query(order.outTradeNo);
  if (trade.state === 'PAID') return (await settleFromTrade(deps, order, trade)).kind;
  if (trade.state === 'CLOSED' || ((trade.state === 'WAITING' || trade.state === 'NOT_FOUND') && expired)) {
    if (trade.state !== 'CLOSED' && (await provider.close(order.outTradeNo)) === 'not-closable') return 'waiting';
    return (await deps.orders.closeIfPending(order.id, now)) ? 'closed' : 'waiting';
  }
  return 'waiting';
}
