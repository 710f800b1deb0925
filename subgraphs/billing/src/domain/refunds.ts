import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditActor } from '@firefly/db';
import { badUserInput, conflict, notFound, upstreamUnavailable } from '@firefly/errors';
import type { OrderRow } from '../data/order-store.ts';
import { ProviderError, type RefundState } from './payment-ports.ts';
import type { ReconcileDeps } from './reconcile.ts';

const MAX_REASON_LENGTH = 256;

/**
 * Applies what the provider says about a PROCESSING refund; PROCESSING leaves it for later. True when this call
 * finished it (false: still processing, or already finished by another call).
 */
export async function finishRefund(deps: ReconcileDeps, refundId: string, state: RefundState): Promise<boolean> {
  if (state === 'SUCCEEDED') {
    const order = await deps.orders.completeRefund(refundId, (o) => deps.store.ensureAccount(o.tenantId, o.userId));
    if (!order) return false;
    deps.logger.info({ refundId }, 'refund completed; refunded credits taken back');
    deps.events?.refundFinished?.(order.channel, 'succeeded');
    return true;
  } else if (state === 'FAILED') {
    const order = await deps.orders.failRefund(refundId);
    if (!order) return false;
    deps.logger.warn({ refundId }, 'refund failed at the provider; order back to its previous status');
    deps.events?.refundFinished?.(order.channel, 'failed');
    return true;
  }
  return false;
}

/**
 * An ADMIN's refund of a PAID (or partly refunded) order: `amountFen` (default: all that is left) between 1 fen and
 * what was paid minus what was refunded. The order is REFUNDING while the provider works (a PROCESSING Refund with
 * its own out_refund_no, the provider's idempotency key), then REFUNDED or PARTIALLY_REFUNDED with the refunded share
 * of the credits taken back (see data/order-store.ts completeRefund). A refund still PROCESSING when this returns
 * (WeChat Pay) is finished by the provider's refund notification or the reconciliation job.
 */
export async function refundOrder(
  deps: ReconcileDeps,
  input: { tenantId: string; orderId: string; amountFen?: number | null; reason: string; by?: AuditActor },
): Promise<OrderRow> {
  const order = await deps.orders.find(input.tenantId, input.orderId);
  if (!order) throw notFound('Order', { field: 'id' });
  if (order.status === 'REFUNDING') throw conflict('A refund of this order is in progress', { status: order.status });
  if (order.status !== 'PAID' && order.status !== 'PARTIALLY_REFUNDED') throw conflict(`Only a paid order can be refunded; this one is ${order.status}`, { status: order.status });
  const remaining = order.amountFen - order.refundedFen;
  const amountFen = input.amountFen ?? remaining;
  if (!Number.isSafeInteger(amountFen) || amountFen < 1 || amountFen > remaining) {
    throw badUserInput(`amountFen must be a whole number from 1 to ${remaining} (paid ${order.amountFen}, refunded ${order.refundedFen})`, { field: 'amountFen', remaining });
  }
  const reason = input.reason.trim();
  if (reason === '' || reason.length > MAX_REASON_LENGTH) throw badUserInput(`reason must be 1 to ${MAX_REASON_LENGTH} characters`, { field: 'reason' });
  const provider = deps.providers[order.channel];
  if (!provider) throw conflict(`${order.channel} is not configured on this server: the order cannot be refunded here`);

  const refund = { id: randomUUID(), outRefundNo: `R${randomBytes(15).toString('hex')}`, amountFen, reason };
  if (!(await deps.orders.startRefund(order, refund, input.by))) throw conflict('The order changed meanwhile; read it again', { status: order.status });
  deps.logger.info({ orderId: order.id, refundId: refund.id, amountFen }, 'refund started');

  let state: RefundState;
  try {
    state = await provider.refund({ outTradeNo: order.outTradeNo, outRefundNo: refund.outRefundNo, amountFen, totalFen: order.amountFen, reason });
    // WeChat Pay answers PROCESSING first: wait a moment for the usual quick success.
    for (let i = 0; state === 'PROCESSING' && i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = await provider.refundStatus({ outTradeNo: order.outTradeNo, outRefundNo: refund.outRefundNo });
    }
  } catch (error) {
    if (error instanceof ProviderError && !error.retryable) {
      if (await deps.orders.failRefund(refund.id)) deps.events?.refundFinished?.(order.channel, 'failed');
      throw badUserInput(`The payment channel refused the refund (${error.code})`, { field: 'amountFen', providerCode: error.code });
    }
    // Unknown outcome (timeout, network): the refund stays PROCESSING; reconciliation asks the provider later.
    throw upstreamUnavailable('The payment channel did not confirm the refund; it will be checked again', { orderId: order.id }, error);
  }
  await finishRefund(deps, refund.id, state);
  return (await deps.orders.find(order.tenantId, order.id))!;
}
