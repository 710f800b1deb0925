import type { Logger } from '@firefly/logger';
import type { OrderRow, OrderStore } from '../data/order-store.ts';
import type { PaymentEvents } from './payment-events.ts';
import type { ConfirmedPayment } from './payment-ports.ts';
import type { CreditStore } from './ports.ts';

export type SettleOutcome =
  /** This call moved the order PENDING → PAID and booked the credits. */
  | { kind: 'credited'; order: OrderRow }
  /** Already PAID (or refunded since): a duplicate, concurrent or late confirmation; nothing changed. */
  | { kind: 'duplicate'; order: OrderRow }
  /** The order was CLOSED before the money came: no credits; the payment is recorded and flagged for an admin. */
  | { kind: 'closed_order'; order: OrderRow }
  /** The provider names an amount other than the order's: nothing changed. */
  | { kind: 'amount_mismatch'; order: OrderRow }
  /** No order of ours has this out_trade_no on this channel. */
  | { kind: 'unknown_order' };

export interface SettleDeps {
  orders: OrderStore;
  store: CreditStore;
  logger: Logger;
  events?: PaymentEvents;
}

/**
 * Applies a confirmed payment (verified notification or provider query) to its order, exactly once: the amount must
 * equal the order's; a PENDING order becomes PAID with one PURCHASE entry in one transaction (data/order-store.ts,
 * markPaid). Notifications, the reconciliation job and cancelOrder may race here safely.
 */
export async function settlePayment(deps: SettleDeps, payment: ConfirmedPayment): Promise<SettleOutcome> {
  const order = await deps.orders.findByOutTradeNo(payment.outTradeNo);
  if (!order || order.channel !== payment.channel) {
    deps.logger.warn({ channel: payment.channel, outTradeNo: payment.outTradeNo }, 'payment for an unknown order');
    return { kind: 'unknown_order' };
  }
  if (payment.amountFen !== order.amountFen) {
    deps.logger.error({ orderId: order.id, paidFen: payment.amountFen, orderFen: order.amountFen }, 'payment amount differs from the order: nothing credited');
    return { kind: 'amount_mismatch', order };
  }
  if (order.status === 'PENDING') {
    const account = await deps.store.ensureAccount(order.tenantId, order.userId);
    if (await deps.orders.markPaid(order, account, payment)) {
      const paid = (await deps.orders.find(order.tenantId, order.id))!;
      deps.logger.info({ orderId: order.id, channel: order.channel, credits: order.credits }, 'order paid; credits booked');
      deps.events?.orderPaid?.(paid);
      return { kind: 'credited', order: paid };
    }
  }
  const current = (await deps.orders.find(order.tenantId, order.id))!;
  if (current.status === 'CLOSED') {
    await deps.orders.recordPayment(current, payment);
    deps.logger.error(
      { orderId: current.id, channel: current.channel, providerTradeNo: payment.providerTradeNo, amountFen: payment.amountFen },
      'PAYMENT FOR A CLOSED ORDER: no credits granted; refund it at the provider (recorded as a Payment of the closed order)',
    );
    return { kind: 'closed_order', order: current };
  }
  return { kind: 'duplicate', order: current };
}
