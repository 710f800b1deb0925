import type { PaymentChannel, PaymentNotificationVerdict } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import express, { type Express, type Response } from 'express';
import type { Counter } from 'prom-client';
import type { NotificationLog } from '../data/notification-log.ts';
import type { PaymentProviders } from '../domain/payment-ports.ts';
import { finishRefund } from '../domain/refunds.ts';
import { settlePayment, type SettleDeps } from '../domain/settle-payment.ts';

const ROUTES: ReadonlyArray<{ path: string; channel: PaymentChannel }> = [
  { path: '/payments/alipay/notify', channel: 'ALIPAY' },
  { path: '/payments/wechat/notify', channel: 'WECHAT' },
];

/** How each provider wants to be answered: Alipay reads a body of exactly `success`; WeChat Pay a 2xx, else 4xx/5xx. */
function answer(res: Response, channel: PaymentChannel, ok: boolean, status = 400): void {
  if (channel === 'ALIPAY') {
    res.status(200).type('text/plain').send(ok ? 'success' : 'fail');
  } else if (ok) {
    res.status(204).end();
  } else {
    res.status(status).json({ code: 'FAIL', message: status >= 500 ? 'temporarily unavailable, retry' : 'refused' });
  }
}

/** What became of one notification: the provider's answer, the metric and the stored record. */
interface Verdict {
  acknowledged: boolean;
  /** HTTP status of a WeChat Pay refusal. */
  status?: number;
  verdict: PaymentNotificationVerdict;
  /** The metric's outcome (and the record's reason unless `reason` is given). */
  outcome: string;
  reason?: string;
  reference?: string | null | undefined;
  order?: { id: string; tenantId: string } | null | undefined;
}

/**
 * The providers' asynchronous notifications, reached through the gateway's public origin (gateway module
 * payment-notifications). No gateway credential: only the provider's signature counts. The raw body is kept as it
 * arrived, since both signatures cover the exact bytes. Acknowledged only after the order is settled (or when there
 * is nothing to do); anything forged, altered, stale or for another amount changes nothing and is refused, and an
 * internal failure is answered as a failure so that the provider sends it again. Every notification, whatever its
 * verdict, is recorded (data/notification-log.ts) before it is answered; a failure to record is logged and does not
 * change the answer.
 */
export function paymentNotificationRoutes(deps: SettleDeps & { providers: PaymentProviders; notifications: Counter<'channel' | 'outcome' | 'reason'>; log: NotificationLog }) {
  /** The order a notification names, if it is one of ours on this channel (an out_trade_no, or an out_refund_no). */
  async function orderNamed(channel: PaymentChannel, reference: string | undefined) {
    if (!reference) return null;
    const order = await deps.orders.findByOutTradeNo(reference);
    if (order) return order.channel === channel ? order : null;
    const refund = await deps.orders.findRefund({ outRefundNo: reference });
    return refund ? deps.orders.findById(refund.orderId) : null;
  }

  async function handle(channel: PaymentChannel, headers: Record<string, string | undefined>, rawBody: string, log: Logger): Promise<Verdict> {
    const provider = deps.providers[channel];
    if (!provider) return { acknowledged: false, status: 404, verdict: 'REFUSED', outcome: 'refused', reason: 'channel_not_configured' };
    const result = provider.parseNotification({ headers, rawBody });
    if (result.kind === 'refused') {
      log.warn({ reason: result.reason }, 'payment notification refused');
      return { acknowledged: false, status: 401, verdict: 'REFUSED', outcome: 'refused', reason: result.reason, reference: result.claimedReference, order: await orderNamed(channel, result.claimedReference).catch(() => null) };
    }
    if (result.kind === 'ignored') {
      log.info({ reason: result.reason }, 'payment notification needs no action');
      return { acknowledged: true, verdict: 'ACCEPTED', outcome: 'ignored' };
    }
    if (result.kind === 'refund') {
      const refund = await deps.orders.findRefund({ outRefundNo: result.outRefundNo });
      const order = refund ? await deps.orders.findById(refund.orderId) : null;
      const finished = refund ? await finishRefund(deps, refund.id, result.succeeded ? 'SUCCEEDED' : 'FAILED') : false;
      const verdict: PaymentNotificationVerdict = !refund ? 'REFUSED' : finished ? 'ACCEPTED' : 'DUPLICATE';
      return { acknowledged: true, verdict, outcome: refund ? 'refund' : 'unknown_refund', reference: result.outRefundNo, order };
    }
    const outcome = await settlePayment(deps, result.payment);
    const order = outcome.kind === 'unknown_order' ? null : outcome.order;
    const reference = result.payment.outTradeNo;
    switch (outcome.kind) {
      case 'credited':
        return { acknowledged: true, verdict: 'ACCEPTED', outcome: outcome.kind, reference, order };
      case 'duplicate':
        return { acknowledged: true, verdict: 'DUPLICATE', outcome: outcome.kind, reference, order };
      // A payment for a closed order is recorded and flagged, never credited: sending it again changes nothing.
      case 'closed_order':
        return { acknowledged: true, verdict: 'REFUSED', outcome: outcome.kind, reference, order };
      default:
        return { acknowledged: false, status: 400, verdict: 'REFUSED', outcome: outcome.kind, reference, order };
    }
  }

  return (app: Express) => {
    for (const { path, channel } of ROUTES) {
      app.post(path, express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
        const receivedAt = new Date();
        const log: Logger = deps.logger.child({ channel });
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value[0] : value;
        const rawBody = typeof req.body === 'string' ? req.body : '';
        let verdict: Verdict;
        try {
          verdict = await handle(channel, headers, rawBody, log);
        } catch (error) {
          log.error({ err: error }, 'payment notification failed; the provider will send it again');
          verdict = { acknowledged: false, status: 500, verdict: 'FAILED', outcome: 'error' };
        }
        const refusedReason = verdict.outcome === 'refused' ? (verdict.reason ?? '') : '';
        deps.notifications.inc({ channel, outcome: verdict.outcome, reason: refusedReason });
        try {
          await deps.log.record({ channel, verdict: verdict.verdict, reason: verdict.reason ?? verdict.outcome, reference: verdict.reference, order: verdict.order, rawBody, receivedAt });
        } catch (error) {
          log.error({ err: error, verdict: verdict.verdict }, 'payment notification could not be recorded');
        }
        return answer(res, channel, verdict.acknowledged, verdict.status);
      });
    }
  };
}
