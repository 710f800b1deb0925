import { AlipayRequestError, AlipaySdk } from 'alipay-sdk';
import { ProviderError, type NotificationResult, type PaymentProvider, type ProviderTrade, type StartPayment } from '../domain/payment-ports.ts';
import { fenToYuan, parseBeijingTime, yuanToFen } from './money.ts';
import { privateKeyType, toPem } from './keys.ts';

export interface AlipaySettings {
  appId: string;
  privateKey: string;
  alipayPublicKey: string;
  gateway: string;
  endpoint: string;
  timeoutMs: number;
  notifyUrl: string;
  /** The seller id notifications must name; null: not checked. */
  sellerId: string | null;
}

/** The SDK configured once per process (it parses the keys). */
export function createAlipaySdk(settings: AlipaySettings): AlipaySdk {
  return new AlipaySdk({
    appId: settings.appId,
    privateKey: settings.privateKey.trim().replace(/\\n/g, '\n'),
    keyType: privateKeyType(settings.privateKey),
    alipayPublicKey: toPem(settings.alipayPublicKey, 'PUBLIC KEY'),
    gateway: settings.gateway,
    endpoint: settings.endpoint,
    timeout: settings.timeoutMs,
  });
}

/** Alipay minutes for `timeout_express`: at least 1 m, rounded down so Alipay never outlives our order. */
function timeoutExpress(expiresAt: Date): string {
  return `${Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 60_000))}m`;
}

/**
 * Alipay through `alipay-sdk` 4: v3 REST (`curl`, signed requests, verified answers) for precreate, query and close;
 * `pageExecute` for the page-pay URL (a signed v2 GET URL, no network call).
 */
export function createAlipayProvider(sdk: AlipaySdk, settings: AlipaySettings): PaymentProvider {
  async function call<T>(path: string, body: Record<string, unknown>): Promise<T> {
    try {
      const { data } = await sdk.curl<T>('POST', path, { body });
      return data;
    } catch (error) {
      throw asProviderError(error);
    }
  }

  return {
    channel: 'ALIPAY',

    async start(payment: StartPayment) {
      const common = {
        out_trade_no: payment.outTradeNo,
        total_amount: fenToYuan(payment.amountFen),
        subject: payment.subject,
        timeout_express: timeoutExpress(payment.expiresAt),
      };
      const precreate = await call<{ qr_code: string }>('/v3/alipay/trade/precreate', { ...common, notify_url: settings.notifyUrl });
      const payUrl = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
        bizContent: { ...common, product_code: 'FAST_INSTANT_TRADE_PAY' },
        notifyUrl: settings.notifyUrl,
      });
      return { qrCodeUrl: precreate.qr_code, payUrl };
    },

    async close(outTradeNo) {
      try {
        await call('/v3/alipay/trade/close', { out_trade_no: outTradeNo });
        return 'closed';
      } catch (error) {
        // A QR code nobody scanned is no trade at Alipay: there is nothing to close.
        if (error instanceof ProviderError && error.code === 'ACQ.TRADE_NOT_EXIST') return 'closed';
        if (error instanceof ProviderError && error.code === 'ACQ.TRADE_STATUS_ERROR') return 'not-closable';
        throw error;
      }
    },

    async query(outTradeNo): Promise<ProviderTrade> {
      let data: { trade_no?: string; trade_status?: string; total_amount?: string; send_pay_date?: string };
      try {
        data = await call('/v3/alipay/trade/query', { out_trade_no: outTradeNo });
      } catch (error) {
        if (error instanceof ProviderError && error.code === 'ACQ.TRADE_NOT_EXIST') return { state: 'NOT_FOUND', providerTradeNo: null, amountFen: null, paidAt: null };
        throw error;
      }
      const paid = data.trade_status === 'TRADE_SUCCESS' || data.trade_status === 'TRADE_FINISHED';
      return {
        state: paid ? 'PAID' : data.trade_status === 'WAIT_BUYER_PAY' ? 'WAITING' : 'CLOSED',
        providerTradeNo: data.trade_no ?? null,
        amountFen: yuanToFen(data.total_amount),
        paidAt: paid && data.send_pay_date ? parseBeijingTime(data.send_pay_date) : null,
      };
    },

    async refund({ outTradeNo, outRefundNo, amountFen, reason }) {
      await call('/v3/alipay/trade/refund', { out_trade_no: outTradeNo, out_request_no: outRefundNo, refund_amount: fenToYuan(amountFen), refund_reason: reason.slice(0, 256) });
      // fund_change N only says "no money moved by this call" (e.g. a repeat): the refund query is authoritative.
      return this.refundStatus({ outTradeNo, outRefundNo });
    },

    async refundStatus({ outTradeNo, outRefundNo }) {
      const data = await call<{ refund_status?: string }>('/v3/alipay/trade/fastpay/refund/query', { out_trade_no: outTradeNo, out_request_no: outRefundNo });
      // No refund_status: Alipay has no such refund (it failed, or never arrived).
      return data.refund_status === 'REFUND_SUCCESS' ? 'SUCCEEDED' : 'FAILED';
    },

    parseNotification({ rawBody }): NotificationResult {
      // Form-decoded values, empty ones dropped (Alipay signs without them; checkNotifySignV2 does not drop them).
      const params: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(rawBody)) if (value !== '') params[key] = value;
      // Named by the body, unverified: only for the record of a refused notification.
      const claim = params.out_trade_no ? { claimedReference: params.out_trade_no } : {};
      if (!params.sign) return { kind: 'refused', reason: 'unsigned', ...claim };
      let authentic = false;
      try {
        authentic = sdk.checkNotifySignV2(params);
      } catch {
        authentic = false;
      }
      if (!authentic) return { kind: 'refused', reason: 'bad_signature', ...claim };
      if (params.app_id !== settings.appId) return { kind: 'refused', reason: 'other_app', ...claim };
      if (settings.sellerId && params.seller_id !== settings.sellerId) return { kind: 'refused', reason: 'other_seller', ...claim };
      const status = params.trade_status;
      if (status !== 'TRADE_SUCCESS' && status !== 'TRADE_FINISHED') return { kind: 'ignored', reason: `trade_status ${status ?? '(none)'}` };
      const amountFen = yuanToFen(params.total_amount);
      if (!params.out_trade_no || !params.trade_no || amountFen === null) return { kind: 'refused', reason: 'malformed', ...claim };
      const { sign: _sign, sign_type: _signType, ...kept } = params;
      return {
        kind: 'paid',
        payment: {
          channel: 'ALIPAY',
          outTradeNo: params.out_trade_no,
          providerTradeNo: params.trade_no,
          amountFen,
          paidAt: params.gmt_payment ? parseBeijingTime(params.gmt_payment) : null,
          payload: JSON.stringify(kept),
        },
      };
    },
  };
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof AlipayRequestError) {
    const status = error.responseHttpStatus ?? 0;
    const code = error.code ?? 'unknown';
    const retryable = status === 0 || status >= 500 || code === 'ACQ.SYSTEM_ERROR' || code === 'response-signature-verify-error';
    return new ProviderError('ALIPAY', code, `Alipay answered ${status} ${code}: ${error.message.slice(0, 200)}`, retryable);
  }
  return new ProviderError('ALIPAY', 'network', `Alipay could not be reached: ${(error as Error).message}`, true);
}
