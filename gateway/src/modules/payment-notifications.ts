import express from 'express';
import type { Logger } from '@firefly/logger';
import type { GatewayModule } from './module.ts';

/** Headers a provider's notification is verified with; everything else (cookies, forwarded-for…) stays here. */
const FORWARDED_HEADERS = ['content-type', 'wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial', 'wechatpay-signature-type', 'request-id'];
const CHANNELS = new Set(['alipay', 'wechat']);

/**
 * `POST /payments/{alipay,wechat}/notify` on the public origin, passed byte for byte to the billing subgraph (which
 * verifies signatures over the raw body and answers as each provider expects), and its answer passed back. The
 * gateway adds no credential: billing trusts only the providers' signatures on these routes. When billing cannot be
 * reached the provider gets a failure answer and retries later.
 */
export function usePaymentNotifications(options: { billingUrl: string; logger: Logger; timeoutMs: number }): GatewayModule {
  const origin = new URL(options.billingUrl).origin;
  return {
    name: 'payment-notifications',
    routes(app) {
      app.post('/payments/:channel/notify', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
        const channel = String(req.params.channel);
        if (!CHANNELS.has(channel)) {
          res.status(404).json({ code: 'NOT_FOUND', message: 'No such payment channel' });
          return;
        }
        const headers: Record<string, string> = {};
        for (const name of FORWARDED_HEADERS) {
          const value = req.get(name);
          if (value !== undefined) headers[name] = value;
        }
        try {
          const upstream = await fetch(`${origin}/payments/${channel}/notify`, {
            method: 'POST',
            headers,
            body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
            signal: AbortSignal.timeout(options.timeoutMs),
          });
          const body = Buffer.from(await upstream.arrayBuffer());
          const type = upstream.headers.get('content-type');
          if (type) res.setHeader('content-type', type);
          res.status(upstream.status).send(body);
        } catch (error) {
          options.logger.error({ err: error, channel }, 'billing unreachable for a payment notification; the provider will retry');
          if (channel === 'alipay') res.status(502).type('text/plain').send('fail');
          else res.status(502).json({ code: 'FAIL', message: 'temporarily unavailable' });
        }
      });
    },
  };
}
