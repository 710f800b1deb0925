import type { PaymentChannel } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import express, { type Express, type Response } from 'express';
import type { Counter } from 'prom-client';
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

/**
 * The providers' asynchronous notifications, reached through the gateway's public origin (gateway module
 * payment-notifications). No gateway credential: only the provider's signature counts. The raw body is kept as it
 * arrived, since both signatures cover the exact bytes. Acknowledged only after the order is settled (or when there
 * is nothing to do); anything forged, altered, stale or for another amount changes nothing and is refused, and an
 * internal failure is answered as a failure so that the provider sends it again.
 */
export function paymentNotificationRoutes(deps: SettleDeps & { providers: PaymentProviders; notifications: Counter<'channel' | 'outcome' | 'reason'> }) {
  return (app: Express) => {
    for (const { path, channel } of ROUTES) {
      app.post(path, express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
        const log: Logger = deps.logger.child({ channel });
        const provider = deps.providers[channel];
        if (!provider) {
          deps.notifications.inc({ channel, outcome: 'refused', reason: 'channel_not_configured' });
          return answer(res, channel, false, 404);
        }
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value[0] : value;
        try {
          const result = provider.parseNotification({ headers, rawBody: typeof req.body === 'string' ? req.body : '' });
          if (result.kind === 'refused') {
            deps.notifications.inc({ channel, outcome: 'refused', reason: result.reason });
            log.warn({ reason: result.reason }, 'payment notification refused');
            return answer(res, channel, false, 401);
          }
          if (result.kind === 'ignored') {
            deps.notifications.inc({ channel, outcome: 'ignored', reason: '' });
            log.info({ reason: result.reason }, 'payment notification needs no action');
            return answer(res, channel, true);
          }
          if (result.kind === 'refund') {
            const refund = await deps.orders.findRefund({ outRefundNo: result.outRefundNo });
            if (refund) await finishRefund(deps, refund.id, result.succeeded ? 'SUCCEEDED' : 'FAILED');
            deps.notifications.inc({ channel, outcome: refund ? 'refund' : 'unknown_refund', reason: '' });
            return answer(res, channel, true);
          }
          const outcome = await settlePayment(deps, result.payment);
          deps.notifications.inc({ channel, outcome: outcome.kind, reason: '' });
          // A payment for a closed order is recorded and flagged: sending it again changes nothing, so acknowledge it.
          const acknowledged = outcome.kind === 'credited' || outcome.kind === 'duplicate' || outcome.kind === 'closed_order';
          return answer(res, channel, acknowledged, 400);
        } catch (error) {
          deps.notifications.inc({ channel, outcome: 'error', reason: '' });
          log.error({ err: error }, 'payment notification failed; the provider will send it again');
          return answer(res, channel, false, 500);
        }
      });
    }
  };
}
