import { forbidden, upstreamUnavailable } from '@firefly/errors';
import { isSmsError } from '@firefly/sms';
import type { OrderPaidSmsRepository, OrderPaidSmsRow } from '../data/order-paid-sms.ts';
import type { UserScope } from './scope.ts';

export type OrderPaidSmsOutcome = 'SENT' | 'NO_PHONE' | 'DISABLED' | 'IN_PROGRESS' | 'UNCONFIRMED';

/** A SENDING row older than this belongs to a request that died mid-send (a live one is bounded by the SMS timeout). */
const STALE_SENDING_MS = 5 * 60_000;

/**
 * The payment-success SMS of a paid order, at most once per order (the order id is the idempotency key, kept in
 * OrderPaidSms with the outcome). Only billing asks (service credential with `service: billing`). The phone number is
 * read through the user repository, the subgraph's own data layer, so it never leaves this subgraph. The row is
 * claimed (SENDING) before the provider is called: a concurrent request answers IN_PROGRESS, a later one the stored
 * outcome; a provider failure leaves it FAILED and answers UPSTREAM_UNAVAILABLE so that billing asks again; a request
 * that died while sending leaves SENDING, which is never sent again (UNCONFIRMED: at most once wins over at least once).
 */
export async function sendOrderPaidSms(
  scope: UserScope & { orderPaidSms: OrderPaidSmsRepository },
  input: { orderId: string; userId: string; credits: number; amountFen: number },
): Promise<OrderPaidSmsOutcome> {
  if (scope.identity.kind !== 'service' || scope.identity.service !== 'billing') throw forbidden('Only the billing service sends payment notices');
  const sms = scope.services.sms;
  if (!sms.sendsOrderPaid) return 'DISABLED';

  let row: OrderPaidSmsRow | null = await scope.orderPaidSms.claimNew(input.orderId, input.userId);
  if (!row) {
    const existing = await scope.orderPaidSms.find(input.orderId);
    if (!existing) return 'IN_PROGRESS';
    if (existing.status === 'SENT' || existing.status === 'NO_PHONE') return existing.status;
    if (existing.status === 'SENDING') return Date.now() - existing.updatedAt.getTime() > STALE_SENDING_MS ? 'UNCONFIRMED' : 'IN_PROGRESS';
    if (!(await scope.orderPaidSms.claimRetry(existing))) return 'IN_PROGRESS';
    row = existing;
  }

  const user = await scope.users.findById(input.userId);
  if (!user?.phone) {
    await scope.orderPaidSms.finish(input.orderId, { status: 'NO_PHONE' });
    return 'NO_PHONE';
  }
  try {
    const receipt = await sms.sendOrderPaid({ phone: user.phone, credits: input.credits, amountFen: input.amountFen });
    await scope.orderPaidSms.finish(input.orderId, { status: 'SENT', messageId: receipt.messageId });
    scope.logger.info({ orderId: input.orderId, userId: input.userId, provider: sms.name }, 'payment-success SMS sent');
    return 'SENT';
  } catch (error) {
    const reason = isSmsError(error) ? `${error.kind}: ${error.providerCode}` : 'error';
    await scope.orderPaidSms.finish(input.orderId, { status: 'FAILED', lastError: reason });
    scope.logger.warn({ orderId: input.orderId, reason, attempt: row.attempts }, 'payment-success SMS failed; billing will ask again');
    throw upstreamUnavailable('The SMS provider did not take the message', { service: 'sms' });
  }
}
