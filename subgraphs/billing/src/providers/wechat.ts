import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { ProviderError, type NotificationResult, type PaymentProvider, type ProviderTrade, type StartPayment } from '../domain/payment-ports.ts';
import { toPem } from './keys.ts';
import { beijingRfc3339 } from './money.ts';

export interface WechatSettings {
  mchid: string;
  appid: string;
  merchantSerial: string;
  privateKey: string;
  platformPublicKey: string;
  platformPublicKeyId: string;
  apiV3Key: string;
  baseUrl: string;
  timeoutMs: number;
  notifyUrl: string;
  /** Development: the simulator page standing in for scanning code_url with WeChat (payUrl); null in production. */
  scanPageUrl: string | null;
}

/**
 * The client of `wechatpay-axios-plugin`: it signs every request with the merchant key and verifies every 2xx answer
 * with WeChat Pay's public key (by `Wechatpay-Serial`, 5-minute timestamp window).
 */
export function createWechatClient(settings: WechatSettings): Wechatpay {
  return new Wechatpay({
    mchid: settings.mchid,
    serial: settings.merchantSerial,
    privateKey: toPem(settings.privateKey, 'PRIVATE KEY'),
    certs: { [settings.platformPublicKeyId]: toPem(settings.platformPublicKey, 'PUBLIC KEY') },
    baseURL: settings.baseUrl,
    timeout: settings.timeoutMs,
  } as ConstructorParameters<typeof Wechatpay>[0]);
}

interface WechatTransaction {
  trade_state?: string;
  transaction_id?: string;
  success_time?: string;
  amount?: { total?: number };
}

/** WeChat Pay's own window for signed answers and notifications (wechatpay-axios-plugin uses the same). */
const MAX_CLOCK_SKEW_SECONDS = 300;

/** WeChat Pay API v3, Native payments (a QR code the buyer scans with WeChat). */
export function createWechatProvider(client: Wechatpay, settings: WechatSettings): PaymentProvider {
  const v3 = client.v3 as unknown as WechatApi;
  const platformKey = Rsa.from(toPem(settings.platformPublicKey, 'PUBLIC KEY'), Rsa.KEY_TYPE_PUBLIC);

  async function call<T>(fn: () => Promise<{ status: number; data: T }>): Promise<{ status: number; data: T }> {
    try {
      return await fn();
    } catch (error) {
      throw asProviderError(error);
    }
  }

  return {
    channel: 'WECHAT',

    async start(payment: StartPayment) {
      const { data } = await call<{ code_url: string }>(() =>
        v3.pay.transactions.native.post({
          appid: settings.appid,
          mchid: settings.mchid,
          description: payment.subject.slice(0, 127),
          out_trade_no: payment.outTradeNo,
          time_expire: beijingRfc3339(payment.expiresAt),
          notify_url: settings.notifyUrl,
          amount: { total: payment.amountFen, currency: 'CNY' },
        }),
      );
      const payUrl = settings.scanPageUrl ? `${settings.scanPageUrl}?code_url=${encodeURIComponent(data.code_url)}` : null;
      return { qrCodeUrl: data.code_url, payUrl };
    },

    async close(outTradeNo) {
      try {
        await call(() => v3.pay.transactions.outTradeNo.$out_trade_no$.close.post({ mchid: settings.mchid }, { out_trade_no: outTradeNo }));
        return 'closed';
      } catch (error) {
        if (error instanceof ProviderError && error.code === 'ORDER_NOT_EXIST') return 'closed';
        if (error instanceof ProviderError && !error.retryable) return 'not-closable';
        throw error;
      }
    },

    async query(outTradeNo): Promise<ProviderTrade> {
      let data: WechatTransaction;
      try {
        ({ data } = await call<WechatTransaction>(() => v3.pay.transactions.outTradeNo.$out_trade_no$.get({ params: { mchid: settings.mchid }, out_trade_no: outTradeNo })));
      } catch (error) {
        if (error instanceof ProviderError && error.code === 'ORDER_NOT_EXIST') return { state: 'NOT_FOUND', providerTradeNo: null, amountFen: null, paidAt: null };
        throw error;
      }
      const paid = data.trade_state === 'SUCCESS' || data.trade_state === 'REFUND';
      const waiting = data.trade_state === 'NOTPAY' || data.trade_state === 'USERPAYING';
      return {
        state: paid ? 'PAID' : waiting ? 'WAITING' : 'CLOSED',
        providerTradeNo: data.transaction_id ?? null,
        amountFen: typeof data.amount?.total === 'number' ? data.amount.total : null,
        paidAt: paid && data.success_time ? new Date(data.success_time) : null,
      };
    },

    async refund({ outTradeNo, outRefundNo, amountFen, totalFen, reason }) {
      const { data } = await call<{ status?: string }>(() =>
        v3.refund.domestic.refunds.post({ out_trade_no: outTradeNo, out_refund_no: outRefundNo, reason: reason.slice(0, 80), notify_url: settings.notifyUrl, amount: { refund: amountFen, total: totalFen, currency: 'CNY' } }),
      );
      return refundState(data.status);
    },

    async refundStatus({ outRefundNo }) {
      const { data } = await call<{ status?: string }>(() => v3.refund.domestic.refunds.$out_refund_no$.get({ out_refund_no: outRefundNo }));
      return refundState(data.status);
    },

    parseNotification({ headers, rawBody }): NotificationResult {
      const refused = (reason: string): NotificationResult => ({ kind: 'refused', reason, ...claimedReferenceOf(settings.apiV3Key, rawBody) });
      const timestamp = headers['wechatpay-timestamp'];
      const nonce = headers['wechatpay-nonce'];
      const signature = headers['wechatpay-signature'];
      const serial = headers['wechatpay-serial'];
      if (!timestamp || !nonce || !signature || !serial) return refused('unsigned');
      if (serial !== settings.platformPublicKeyId) return refused('unknown_serial');
      if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) return refused('stale_timestamp');
      let authentic = false;
      try {
        authentic = Rsa.verify(Formatter.response(timestamp, nonce, rawBody), signature, platformKey);
      } catch {
        authentic = false;
      }
      if (!authentic) return refused('bad_signature');
      let event: { event_type?: string; resource?: { ciphertext?: string; nonce?: string; associated_data?: string; original_type?: string } };
      let plain: WechatTransaction & { appid?: string; mchid?: string; out_trade_no?: string };
      try {
        event = JSON.parse(rawBody) as typeof event;
        const resource = event.resource ?? {};
        // Aes.AesGcm.decrypt checks the GCM tag (decipher.final()): an altered ciphertext throws.
        plain = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext ?? '', settings.apiV3Key, resource.nonce ?? '', resource.associated_data ?? '')) as typeof plain;
      } catch {
        return { kind: 'refused', reason: 'undecryptable' };
      }
      if (event.event_type?.startsWith('REFUND.')) {
        const refund = plain as { mchid?: string; out_refund_no?: string; refund_status?: string };
        if (refund.mchid !== settings.mchid) return refused('other_app');
        if (!refund.out_refund_no) return refused('malformed');
        return { kind: 'refund', outRefundNo: refund.out_refund_no, succeeded: refund.refund_status === 'SUCCESS' };
      }
      if (event.event_type !== 'TRANSACTION.SUCCESS') return { kind: 'ignored', reason: `event_type ${event.event_type ?? '(none)'}` };
      if (plain.mchid !== settings.mchid || plain.appid !== settings.appid) return refused('other_app');
      if (plain.trade_state !== 'SUCCESS') return { kind: 'ignored', reason: `trade_state ${plain.trade_state ?? '(none)'}` };
      const amountFen = plain.amount?.total;
      if (!plain.out_trade_no || !plain.transaction_id || typeof amountFen !== 'number') return refused('malformed');
      return {
        kind: 'paid',
        payment: {
          channel: 'WECHAT',
          outTradeNo: plain.out_trade_no,
          providerTradeNo: plain.transaction_id,
          amountFen,
          paidAt: plain.success_time ? new Date(plain.success_time) : null,
          payload: JSON.stringify(plain),
        },
      };
    },
  };
}

/**
 * The out_trade_no / out_refund_no a notification names, for the record of a refused one: read from the resource
 * when it decrypts under our APIv3 key (AES-GCM authenticates it, so only someone holding the key wrote it — e.g. a
 * genuine body replayed with altered headers), else nothing. Never used to act on.
 */
function claimedReferenceOf(apiV3Key: string, rawBody: string): { claimedReference?: string } {
  try {
    const resource = (JSON.parse(rawBody) as { resource?: { ciphertext?: string; nonce?: string; associated_data?: string } }).resource ?? {};
    const plain = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext ?? '', apiV3Key, resource.nonce ?? '', resource.associated_data ?? '')) as { out_trade_no?: unknown; out_refund_no?: unknown };
    const reference = plain.out_refund_no ?? plain.out_trade_no;
    return typeof reference === 'string' && reference !== '' ? { claimedReference: reference } : {};
  } catch {
    return {};
  }
}

function refundState(status: string | undefined): 'SUCCEEDED' | 'PROCESSING' | 'FAILED' {
  if (status === 'SUCCESS') return 'SUCCEEDED';
  if (status === 'PROCESSING') return 'PROCESSING';
  return 'FAILED';
}

/** The slice of the plugin's dynamic chain we call (its own typings make every segment `any`-like). */
interface WechatApi {
  refund: {
    domestic: {
      refunds: {
        post(body: unknown): Promise<{ status: number; data: any }>;
        $out_refund_no$: { get(config: { out_refund_no: string }): Promise<{ status: number; data: any }> };
      };
    };
  };
  pay: {
    transactions: {
      native: { post(body: unknown): Promise<{ status: number; data: any }> };
      outTradeNo: {
        $out_trade_no$: {
          get(config: { params: { mchid: string }; out_trade_no: string }): Promise<{ status: number; data: any }>;
          close: { post(body: unknown, config: { out_trade_no: string }): Promise<{ status: number; data: any }> };
        };
      };
    };
  };
}

function asProviderError(error: unknown): ProviderError {
  const response = (error as { response?: { status?: number; data?: { code?: string; message?: string } } }).response;
  if (response?.status) {
    const code = response.data?.code ?? `HTTP_${response.status}`;
    const retryable = response.status >= 500 || response.status === 429 || code === 'SYSTEM_ERROR';
    return new ProviderError('WECHAT', code, `WeChat Pay answered ${response.status} ${code}: ${String(response.data?.message ?? '').slice(0, 200)}`, retryable);
  }
  // No response: network trouble, a timeout, or an answer whose signature failed verification (treated as forged).
  return new ProviderError('WECHAT', 'network', `WeChat Pay call failed: ${(error as Error).message.slice(0, 200)}`, true);
}
