import { randomUUID } from 'node:crypto';
import { generateRsaKeyPair, randomDigits, rsaSign, rsaVerify } from './crypto.ts';
import { beijingTime, fenToYuan, yuanToFen } from './money.ts';
import type { OutgoingNotification } from './notifier.ts';
import { send, type Exchange, type Runtime } from './runtime.ts';
import type { SimTrade } from './trades.ts';
import type { ForgedVariant } from './types.ts';

/*
 * Alipay OpenAPI as the simulator plays it (simulators/payments/README.md):
 * - v3 REST `POST /v3/alipay/trade/{precreate,query,close,refund}` and `/v3/alipay/trade/fastpay/refund/query`:
 *   `Authorization: ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…` verified with the app's public key,
 *   answers signed in `alipay-timestamp/-nonce/-signature` headers; failures are HTTP 4xx `{code, message}`.
 * - v2 `GET /gateway.do?…` for `alipay.trade.page.pay` / `wap.pay` (what `pageExecute(…, 'GET')` builds): the
 *   parameters' RSA2 signature is verified and the cashier page is shown.
 * - notifications: form-encoded, RSA2-signed with "Alipay's" key over the sorted fields without sign/sign_type.
 */

class AlipayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fail = (code: string, message: string, status = 400) => new AlipayError(status, code, message);

/** The v2 string to sign: sorted `k=v` joined with `&`, values as received. */
function alipayV2SignString(params: Record<string, string>, exclude: readonly string[]): string {
  return Object.keys(params)
    .filter((key) => !exclude.includes(key))
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/** Verifies a v2 request (page pay URL): every parameter but `sign` is signed, `sign_type` included. */
function verifyAlipayV2Request(runtime: Runtime, params: Record<string, string>): string | null {
  if (params.app_id !== runtime.alipay.appId) return 'isv.invalid-app-id';
  if (params.sign_type !== 'RSA2') return 'isv.invalid-signature-type';
  const sign = params.sign;
  if (!sign || !rsaVerify(alipayV2SignString(params, ['sign']), sign, runtime.alipay.appPublicKey)) return 'isv.invalid-signature';
  return null;
}

/** Handles `/v3/alipay/trade/*`. Returns false when the path is not Alipay's. */
export function handleAlipayV3(runtime: Runtime, exchange: Exchange): boolean {
  const path = exchange.url.pathname;
  if (!path.startsWith('/v3/alipay/')) return false;
  const operation = `alipay.${path.slice('/v3/alipay/'.length).replace(/\//g, '.')}`;
  let status = 200;
  let body: string;
  let error: string | undefined;
  try {
    if (exchange.method !== 'POST') throw fail('invalid-method', 'Only POST is served', 405);
    verifyV3Authorization(runtime, exchange);
    if (runtime.faults.systemError) throw fail('ACQ.SYSTEM_ERROR', '系统错误', 500);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(exchange.body || '{}') as Record<string, unknown>;
    } catch {
      throw fail('invalid-parameter', 'Body is not JSON');
    }
    body = JSON.stringify(runOperation(runtime, operation, input));
  } catch (caught) {
    if (!(caught instanceof AlipayError)) throw caught;
    status = caught.status;
    error = caught.code;
    body = JSON.stringify({ code: caught.code, message: caught.message, links: [] });
  }
  runtime.record({ provider: 'alipay', method: exchange.method, path, operation, status, error });
  const timestamp = String(Date.now());
  const nonce = randomUUID().replace(/-/g, '');
  send(exchange.res, status, body, {
    'content-type': 'application/json; charset=utf-8',
    'alipay-trace-id': randomUUID().replace(/-/g, ''),
    'alipay-timestamp': timestamp,
    'alipay-nonce': nonce,
    'alipay-signature': rsaSign(`${timestamp}\n${nonce}\n${body}\n`, runtime.alipay.privateKey),
  });
  return true;
}

function verifyV3Authorization(runtime: Runtime, exchange: Exchange): void {
  const header = exchange.req.headers.authorization ?? '';
  const match = /^ALIPAY-SHA256withRSA (.+),sign=([A-Za-z0-9+/=]+)$/.exec(header);
  if (!match) throw fail('invalid-signature', 'Missing or malformed Authorization', 401);
  const authString = match[1]!;
  const fields = Object.fromEntries(authString.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  if (fields.app_id !== runtime.alipay.appId) throw fail('invalid-app-id', `Unknown app_id ${String(fields.app_id)}`, 401);
  const timestamp = Number(fields.timestamp);
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() - timestamp) > runtime.maxClockSkewSeconds * 1_000) {
    throw fail('invalid-timestamp', 'timestamp is missing or outside the allowed window', 401);
  }
  const pathWithQuery = exchange.url.pathname + exchange.url.search;
  const signString = `${authString}\n${exchange.method}\n${pathWithQuery}\n${exchange.body}\n`;
  if (!rsaVerify(signString, match[2]!, runtime.alipay.appPublicKey)) throw fail('invalid-signature', 'Signature verification failed', 401);
}

function stringField(input: Record<string, unknown>, name: string, max: number, required = true): string | null {
  const value = input[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw fail('missing-parameter', `${name} is required`);
    return null;
  }
  if (typeof value !== 'string' || value.length > max) throw fail('invalid-parameter', `${name} must be a string of at most ${max} characters`);
  return value;
}

function amountField(input: Record<string, unknown>, name: string): number {
  const fen = yuanToFen(input[name]);
  if (fen === null || fen < 1 || fen > 10_000_000_000) throw fail('invalid-parameter', `${name} must be between 0.01 and 100000000.00`);
  return fen;
}

/** `timeout_express` (`90m`, `2h`, `1d`, `1c`) or `time_expire`, else Alipay's default. */
function expiryOf(input: Record<string, unknown>, now: Date): Date {
  const express = input.timeout_express;
  if (typeof express === 'string') {
    const match = /^(\d+)([mhdc])$/.exec(express);
    if (!match) throw fail('invalid-parameter', 'timeout_express must look like 15m, 2h, 1d or 1c');
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, c: 86_400_000 }[match[2] as 'm' | 'h' | 'd' | 'c'];
    return new Date(now.getTime() + Number(match[1]) * unit);
  }
  return new Date(now.getTime() + 2 * 3_600_000);
}

function findTrade(runtime: Runtime, input: Record<string, unknown>): SimTrade {
  const tradeNo = stringField(input, 'trade_no', 64, false);
  const outTradeNo = stringField(input, 'out_trade_no', 64, false);
  if (!tradeNo && !outTradeNo) throw fail('missing-parameter', 'out_trade_no or trade_no is required');
  const trade = tradeNo ? runtime.trades.findByTradeNo('alipay', tradeNo) : runtime.trades.get('alipay', outTradeNo!);
  // A precreate QR code nobody has scanned yet does not exist as a trade at Alipay.
  if (!trade || !trade.scanned) throw fail('ACQ.TRADE_NOT_EXIST', '交易不存在');
  return trade;
}

export function alipayTradeStatus(runtime: Runtime, trade: SimTrade): string {
  if (trade.status === 'WAITING') return 'WAIT_BUYER_PAY';
  if (trade.status === 'CLOSED') return 'TRADE_CLOSED';
  return runtime.trades.refundedFen(trade) >= trade.amountFen ? 'TRADE_CLOSED' : 'TRADE_SUCCESS';
}

function createOrReuse(runtime: Runtime, input: Record<string, unknown>, notifyUrl: string | null, returnUrl: string | null, scanned: boolean): SimTrade {
  const outTradeNo = stringField(input, 'out_trade_no', 64)!;
  const amountFen = amountField(input, 'total_amount');
  const subject = stringField(input, 'subject', 256)!;
  const existing = runtime.trades.get('alipay', outTradeNo);
  if (existing) {
    if (existing.status === 'PAID') throw fail('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
    if (existing.status === 'CLOSED') throw fail('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (existing.amountFen !== amountFen) throw fail('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
    if (scanned) existing.scanned = true;
    return existing;
  }
  if (!notifyUrl) throw fail('missing-parameter', 'notify_url is required by the simulator (it delivers notifications there)');
  return runtime.trades.create({
    provider: 'alipay',
    outTradeNo,
    appId: runtime.alipay.appId,
    subject,
    amountFen,
    notifyUrl,
    returnUrl,
    attach: typeof input.passback_params === 'string' ? input.passback_params : null,
    expiresAt: expiryOf(input, new Date()),
    scanned,
    fingerprint: '',
  });
}

function runOperation(runtime: Runtime, operation: string, input: Record<string, unknown>): Record<string, unknown> {
  switch (operation) {
    case 'alipay.trade.precreate': {
      const notifyUrl = stringField(input, 'notify_url', 512, false);
      const trade = createOrReuse(runtime, input, notifyUrl, null, false);
      return { out_trade_no: trade.outTradeNo, qr_code: `${runtime.publicUrl()}/alipay/qr/${trade.token}` };
    }
    case 'alipay.trade.query': {
      const trade = findTrade(runtime, input);
      const paid = trade.status === 'PAID';
      return {
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        trade_status: alipayTradeStatus(runtime, trade),
        total_amount: fenToYuan(trade.amountFen),
        ...(paid
          ? {
              buyer_pay_amount: fenToYuan(trade.amountFen),
              receipt_amount: fenToYuan(trade.amountFen),
              send_pay_date: beijingTime(trade.paidAt!),
              buyer_user_id: trade.buyerId,
              buyer_logon_id: 'buy***@example.com',
            }
          : {}),
      };
    }
    case 'alipay.trade.close': {
      const tradeNo = stringField(input, 'trade_no', 64, false);
      const outTradeNo = stringField(input, 'out_trade_no', 64, false);
      const trade = tradeNo ? runtime.trades.findByTradeNo('alipay', tradeNo) : outTradeNo ? runtime.trades.get('alipay', outTradeNo) : undefined;
      if (trade && !trade.scanned && trade.status === 'WAITING') {
        // Closing a QR code nobody scanned: Alipay knows no trade, but scanning it later must not pay it either.
        trade.status = 'CLOSED';
        trade.closedAt = new Date();
      }
      const found = findTrade(runtime, input);
      if (found.status !== 'WAITING') throw fail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
      found.status = 'CLOSED';
      found.closedAt = new Date();
      return { trade_no: found.tradeNo, out_trade_no: found.outTradeNo };
    }
    case 'alipay.trade.refund': {
      const trade = findTrade(runtime, input);
      if (trade.status === 'CLOSED') throw fail('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
      if (trade.status !== 'PAID') throw fail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
      const amountFen = amountField(input, 'refund_amount');
      const outRequestNo = stringField(input, 'out_request_no', 64, false) ?? trade.outTradeNo;
      const reason = stringField(input, 'refund_reason', 256, false) ?? '';
      const previous = trade.refunds.get(outRequestNo);
      if (previous) {
        if (previous.amountFen !== amountFen) throw fail('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与原请求不一致');
        return refundAnswer(runtime, trade, 'N');
      }
      if (runtime.trades.refundedFen(trade) + amountFen > trade.amountFen) throw fail('ACQ.REASON_TRADE_REFUND_FEE_ERR', '退款金额超限');
      const now = new Date();
      trade.refunds.set(outRequestNo, { outRefundNo: outRequestNo, refundId: randomDigits(20), amountFen, reason, status: 'SUCCESS', notifyUrl: null, createdAt: now, succeededAt: now });
      return refundAnswer(runtime, trade, 'Y');
    }
    case 'alipay.trade.fastpay.refund.query': {
      const trade = findTrade(runtime, input);
      const outRequestNo = stringField(input, 'out_request_no', 64, false) ?? trade.outTradeNo;
      const refund = trade.refunds.get(outRequestNo);
      // An unknown out_request_no answers without refund_status: "no such refund" (Alipay's documented behaviour).
      return {
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        out_request_no: outRequestNo,
        total_amount: fenToYuan(trade.amountFen),
        ...(refund ? { refund_amount: fenToYuan(refund.amountFen), refund_status: 'REFUND_SUCCESS', gmt_refund_pay: beijingTime(refund.succeededAt!) } : {}),
      };
    }
    default:
      throw fail('invalid-method', `The simulator does not serve ${operation}`, 404);
  }
}

function refundAnswer(runtime: Runtime, trade: SimTrade, fundChange: 'Y' | 'N'): Record<string, unknown> {
  return {
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    buyer_logon_id: 'buy***@example.com',
    fund_change: fundChange,
    refund_fee: fenToYuan(runtime.trades.refundedFen(trade)),
    gmt_refund_pay: beijingTime(new Date()),
  };
}

/** `GET /gateway.do` of a page-pay URL: the trade it describes (created on first visit). */
export function pagePayTrade(runtime: Runtime, params: Record<string, string>): SimTrade {
  const refusal = verifyAlipayV2Request(runtime, params);
  if (refusal) throw fail(refusal, `The page-pay request was refused: ${refusal}`);
  if (params.method !== 'alipay.trade.page.pay' && params.method !== 'alipay.trade.wap.pay') {
    throw fail('isv.invalid-method', `The simulator's gateway.do serves page and wap pay only, not ${params.method ?? '(none)'}`);
  }
  let biz: Record<string, unknown>;
  try {
    biz = JSON.parse(params.biz_content ?? '') as Record<string, unknown>;
  } catch {
    throw fail('isv.invalid-parameter', 'biz_content is not JSON');
  }
  // The same page opened again shows the trade as it is now (paid or closed included).
  const existing = typeof biz.out_trade_no === 'string' ? runtime.trades.get('alipay', biz.out_trade_no) : undefined;
  if (existing && existing.amountFen === yuanToFen(biz.total_amount)) {
    existing.scanned = true;
    return existing;
  }
  return createOrReuse(runtime, biz, params.notify_url ?? null, params.return_url ?? null, true);
}

export { AlipayError };

/** The trade_status_sync notification of a paid trade, signed as Alipay signs it. */
export function alipayPaidNotification(runtime: Runtime, trade: SimTrade, variant?: ForgedVariant): OutgoingNotification {
  const amount = fenToYuan(trade.amountFen + (variant === 'other-amount' ? 1 : 0));
  const fields: Record<string, string> = {
    notify_time: beijingTime(new Date()),
    notify_type: 'trade_status_sync',
    notify_id: `${beijingTime(trade.paidAt ?? new Date()).replace(/\D/g, '')}${randomDigits(16)}`,
    app_id: variant === 'other-app' ? '2021000000009999' : trade.appId,
    charset: 'utf-8',
    version: '1.0',
    trade_no: trade.tradeNo!,
    out_trade_no: trade.outTradeNo,
    buyer_id: trade.buyerId,
    seller_id: runtime.alipay.sellerId,
    trade_status: 'TRADE_SUCCESS',
    total_amount: amount,
    receipt_amount: amount,
    buyer_pay_amount: amount,
    invoice_amount: amount,
    subject: trade.subject,
    gmt_create: beijingTime(trade.createdAt),
    gmt_payment: beijingTime(trade.paidAt ?? new Date()),
    fund_bill_list: JSON.stringify([{ amount, fundChannel: 'ALIPAYACCOUNT' }]),
    ...(trade.attach ? { passback_params: trade.attach } : {}),
  };
  const key = variant === 'bad-signature' ? generateRsaKeyPair().privateKey : runtime.alipay.privateKey;
  const signed = { ...fields, sign_type: 'RSA2', sign: rsaSign(alipayV2SignString(fields, ['sign', 'sign_type']), key) };
  const body = new URLSearchParams(signed).toString();
  return {
    provider: 'alipay',
    kind: 'trade_status_sync',
    outTradeNo: trade.outTradeNo,
    url: trade.notifyUrl,
    build: () => ({ headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body }),
    acknowledged: (status, text) => status === 200 && text === 'success',
  };
}
