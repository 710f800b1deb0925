import { randomUUID } from 'node:crypto';
import { aesGcmEncrypt, generateRsaKeyPair, randomDigits, randomToken, rsaSign, rsaVerify } from './crypto.ts';
import { beijingRfc3339 } from './money.ts';
import type { OutgoingNotification } from './notifier.ts';
import { send, type Exchange, type Runtime } from './runtime.ts';
import type { SimRefund, SimTrade } from './trades.ts';
import type { ForgedVariant } from './types.ts';

/*
 * WeChat Pay API v3 as the simulator plays it (simulators/payments/README.md): every request's
 * `WECHATPAY2-SHA256-RSA2048` Authorization is verified with the merchant's public key (mchid, serial_no, a
 * 5-minute timestamp window); every answer, errors and 204s included, is signed with the platform key in the
 * `Wechatpay-*` headers; notifications carry an AES-256-GCM encrypted resource and the same signature headers.
 */

class WechatError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fail = (status: number, code: string, message: string) => new WechatError(status, code, message);

function signatureHeaders(runtime: Runtime, body: string, options: { key?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = randomToken(32);
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Serial': runtime.wechat.platformPublicKeyId,
    'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    'Wechatpay-Signature': rsaSign(`${timestamp}\n${nonce}\n${body}\n`, options.key ?? runtime.wechat.platformPrivateKey),
  };
}

/** Handles `/v3/pay/*` and `/v3/refund/*`. Returns false when the path is not WeChat Pay's. */
export function handleWechat(runtime: Runtime, exchange: Exchange): boolean {
  const path = exchange.url.pathname;
  if (!path.startsWith('/v3/pay/') && !path.startsWith('/v3/refund/')) return false;
  let status = 200;
  let body = '';
  let operation: string | undefined;
  let error: string | undefined;
  try {
    verifyAuthorization(runtime, exchange);
    if (runtime.faults.systemError) throw fail(500, 'SYSTEM_ERROR', '系统错误');
    const result = route(runtime, exchange);
    operation = result.operation;
    if (result.value === undefined) status = 204;
    else body = JSON.stringify(result.value);
  } catch (caught) {
    if (!(caught instanceof WechatError)) throw caught;
    status = caught.status;
    error = caught.code;
    body = JSON.stringify({ code: caught.code, message: caught.message });
  }
  runtime.record({ provider: 'wechat', method: exchange.method, path: exchange.url.pathname + exchange.url.search, operation, status, error });
  send(exchange.res, status, body, {
    ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'Request-ID': randomUUID().replace(/-/g, ''),
    ...signatureHeaders(runtime, body),
  });
  return true;
}

function verifyAuthorization(runtime: Runtime, exchange: Exchange): void {
  const header = exchange.req.headers.authorization ?? '';
  if (!header.startsWith('WECHATPAY2-SHA256-RSA2048 ')) throw fail(401, 'SIGN_ERROR', 'Authorization 缺失或格式错误');
  const fields: Record<string, string> = {};
  for (const match of header.slice('WECHATPAY2-SHA256-RSA2048 '.length).matchAll(/(\w+)="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  if (fields.mchid !== runtime.wechat.mchid) throw fail(401, 'SIGN_ERROR', '商户号与签名不匹配');
  if (fields.serial_no?.toUpperCase() !== runtime.wechat.merchantSerial.toUpperCase()) throw fail(401, 'SIGN_ERROR', '证书序列号不匹配');
  const timestamp = Number(fields.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > runtime.maxClockSkewSeconds) throw fail(401, 'SIGN_ERROR', '时间戳已过期');
  if (!fields.nonce_str || !fields.signature) throw fail(401, 'SIGN_ERROR', 'Authorization 缺少 nonce_str 或 signature');
  const message = `${exchange.method}\n${exchange.url.pathname}${exchange.url.search}\n${fields.timestamp}\n${fields.nonce_str}\n${exchange.body}\n`;
  if (!rsaVerify(message, fields.signature, runtime.wechat.merchantPublicKey)) throw fail(401, 'SIGN_ERROR', '签名错误');
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // below
  }
  throw fail(400, 'PARAM_ERROR', '请求体不是 JSON 对象');
}

function route(runtime: Runtime, exchange: Exchange): { operation: string; value?: unknown } {
  const path = exchange.url.pathname;
  const mchidParam = exchange.url.searchParams.get('mchid');
  let match: RegExpExecArray | null;
  if (exchange.method === 'POST' && path === '/v3/pay/transactions/native') return { operation: 'wechat.native', value: native(runtime, parseJson(exchange.body)) };
  if (exchange.method === 'GET' && (match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(path))) {
    if (mchidParam !== runtime.wechat.mchid) throw fail(400, 'PARAM_ERROR', 'mchid 不正确');
    return { operation: 'wechat.query', value: transactionView(runtime, requireTrade(runtime, decodeURIComponent(match[1]!))) };
  }
  if (exchange.method === 'GET' && (match = /^\/v3\/pay\/transactions\/id\/([^/]+)$/.exec(path))) {
    if (mchidParam !== runtime.wechat.mchid) throw fail(400, 'PARAM_ERROR', 'mchid 不正确');
    const trade = runtime.trades.findByTradeNo('wechat', decodeURIComponent(match[1]!));
    if (!trade) throw fail(404, 'ORDER_NOT_EXIST', '订单不存在');
    return { operation: 'wechat.query', value: transactionView(runtime, trade) };
  }
  if (exchange.method === 'POST' && (match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/.exec(path))) {
    const input = parseJson(exchange.body);
    if (input.mchid !== runtime.wechat.mchid) throw fail(400, 'PARAM_ERROR', 'mchid 不正确');
    const trade = requireTrade(runtime, decodeURIComponent(match[1]!));
    if (trade.status === 'PAID') throw fail(400, 'ORDERPAID', '订单已支付');
    if (trade.status === 'WAITING') {
      trade.status = 'CLOSED';
      trade.closedAt = new Date();
    }
    return { operation: 'wechat.close' };
  }
  if (exchange.method === 'POST' && path === '/v3/refund/domestic/refunds') return { operation: 'wechat.refund', value: refund(runtime, parseJson(exchange.body)) };
  if (exchange.method === 'GET' && (match = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path))) {
    const outRefundNo = decodeURIComponent(match[1]!);
    for (const trade of allWechatTrades(runtime)) {
      const found = trade.refunds.get(outRefundNo);
      if (found) return { operation: 'wechat.refund-query', value: refundView(runtime, trade, found) };
    }
    throw fail(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
  }
  throw fail(404, 'NOT_FOUND', `The simulator does not serve ${exchange.method} ${path}`);
}

function* allWechatTrades(runtime: Runtime): Generator<SimTrade> {
  // Refund numbers are unique per merchant; the trade book is small (a simulator), so a scan is fine.
  for (const outTradeNo of runtime.trades.outTradeNos('wechat')) {
    const trade = runtime.trades.get('wechat', outTradeNo);
    if (trade) yield trade;
  }
}

function requireTrade(runtime: Runtime, outTradeNo: string): SimTrade {
  const trade = runtime.trades.get('wechat', outTradeNo);
  if (!trade) throw fail(404, 'ORDER_NOT_EXIST', '订单不存在');
  return trade;
}

function native(runtime: Runtime, input: Record<string, unknown>): { code_url: string } {
  if (input.appid !== runtime.wechat.appid || input.mchid !== runtime.wechat.mchid) throw fail(400, 'INVALID_REQUEST', 'appid和mch_id不匹配');
  const outTradeNo = input.out_trade_no;
  if (typeof outTradeNo !== 'string' || !/^[0-9A-Za-z_\-|*]{6,32}$/.test(outTradeNo)) throw fail(400, 'PARAM_ERROR', 'out_trade_no 格式错误');
  const description = input.description;
  if (typeof description !== 'string' || description.length === 0 || description.length > 127) throw fail(400, 'PARAM_ERROR', 'description 长度不合法');
  const notifyUrl = input.notify_url;
  if (typeof notifyUrl !== 'string' || !/^https?:\/\//.test(notifyUrl) || notifyUrl.includes('?')) throw fail(400, 'PARAM_ERROR', 'notify_url 格式错误');
  const amount = input.amount as { total?: unknown; currency?: unknown } | undefined;
  const total = amount?.total;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 1) throw fail(400, 'PARAM_ERROR', 'amount.total 必须为正整数');
  if (amount?.currency !== undefined && amount.currency !== 'CNY') throw fail(400, 'PARAM_ERROR', 'amount.currency 只支持 CNY');
  let expiresAt = new Date(Date.now() + 2 * 3_600_000);
  if (input.time_expire !== undefined) {
    const parsed = typeof input.time_expire === 'string' ? Date.parse(input.time_expire) : Number.NaN;
    if (Number.isNaN(parsed)) throw fail(400, 'PARAM_ERROR', 'time_expire 格式错误');
    expiresAt = new Date(Math.max(parsed, Date.now() + 60_000));
  }
  const fingerprint = JSON.stringify([description, notifyUrl, total, input.attach ?? null]);
  const existing = runtime.trades.get('wechat', outTradeNo);
  if (existing) {
    if (existing.status === 'PAID') throw fail(400, 'ORDERPAID', '该订单已支付');
    if (existing.status === 'CLOSED') throw fail(400, 'ORDER_CLOSED', '订单已关闭');
    if (existing.fingerprint !== fingerprint) throw fail(400, 'INVALID_REQUEST', '201 商户订单号重复');
    return { code_url: `weixin://wxpay/bizpayurl?pr=${existing.token}` };
  }
  const trade = runtime.trades.create({
    provider: 'wechat',
    outTradeNo,
    appId: runtime.wechat.appid,
    subject: description,
    amountFen: total,
    notifyUrl,
    returnUrl: null,
    attach: typeof input.attach === 'string' ? input.attach : null,
    expiresAt,
    scanned: true,
    fingerprint,
  });
  return { code_url: `weixin://wxpay/bizpayurl?pr=${trade.token}` };
}

export function wechatTradeState(runtime: Runtime, trade: SimTrade): string {
  if (trade.status === 'WAITING') return 'NOTPAY';
  if (trade.status === 'CLOSED') return 'CLOSED';
  return trade.refunds.size > 0 ? 'REFUND' : 'SUCCESS';
}

const STATE_DESC: Record<string, string> = { NOTPAY: '未支付', CLOSED: '已关闭', SUCCESS: '支付成功', REFUND: '转入退款' };

function transactionView(runtime: Runtime, trade: SimTrade, overrides: { amountFen?: number; appid?: string; mchid?: string } = {}): Record<string, unknown> {
  const state = wechatTradeState(runtime, trade);
  const paid = trade.status === 'PAID';
  const total = overrides.amountFen ?? trade.amountFen;
  return {
    appid: overrides.appid ?? trade.appId,
    mchid: overrides.mchid ?? runtime.wechat.mchid,
    out_trade_no: trade.outTradeNo,
    ...(paid ? { transaction_id: trade.tradeNo } : {}),
    trade_type: 'NATIVE',
    trade_state: state,
    trade_state_desc: STATE_DESC[state],
    ...(paid ? { bank_type: 'OTHERS', success_time: beijingRfc3339(trade.paidAt!), payer: { openid: trade.buyerId } } : {}),
    ...(trade.attach ? { attach: trade.attach } : {}),
    amount: { total, ...(paid ? { payer_total: total } : {}), currency: 'CNY', payer_currency: 'CNY' },
  };
}

function refund(runtime: Runtime, input: Record<string, unknown>): Record<string, unknown> {
  const trade =
    typeof input.transaction_id === 'string'
      ? runtime.trades.findByTradeNo('wechat', input.transaction_id)
      : typeof input.out_trade_no === 'string'
        ? runtime.trades.get('wechat', input.out_trade_no)
        : undefined;
  if (!trade) throw fail(404, 'ORDER_NOT_EXIST', '订单不存在');
  const outRefundNo = input.out_refund_no;
  if (typeof outRefundNo !== 'string' || !/^[0-9A-Za-z_\-|*@]{1,64}$/.test(outRefundNo)) throw fail(400, 'PARAM_ERROR', 'out_refund_no 格式错误');
  const amount = input.amount as { refund?: unknown; total?: unknown; currency?: unknown } | undefined;
  if (typeof amount?.refund !== 'number' || !Number.isInteger(amount.refund) || amount.refund < 1) throw fail(400, 'PARAM_ERROR', 'amount.refund 必须为正整数');
  if (amount.total !== trade.amountFen) throw fail(400, 'PARAM_ERROR', 'amount.total 与订单金额不一致');
  if (amount.currency !== 'CNY') throw fail(400, 'PARAM_ERROR', 'amount.currency 只支持 CNY');
  const previous = trade.refunds.get(outRefundNo);
  if (previous) {
    if (previous.amountFen !== amount.refund) throw fail(400, 'INVALID_REQUEST', '退款单号重复，金额不一致');
    return refundView(runtime, trade, previous);
  }
  if (trade.status !== 'PAID') throw fail(400, 'INVALID_REQUEST', '订单未支付，不能退款');
  if (runtime.trades.refundedFen(trade) + amount.refund > trade.amountFen) throw fail(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
  const notifyUrl = typeof input.notify_url === 'string' ? input.notify_url : null;
  const created: SimRefund = {
    outRefundNo,
    refundId: `50${randomDigits(27)}`,
    amountFen: amount.refund,
    reason: typeof input.reason === 'string' ? input.reason : '',
    status: 'PROCESSING',
    notifyUrl,
    createdAt: new Date(),
    succeededAt: null,
  };
  trade.refunds.set(outRefundNo, created);
  runtime.later(runtime.wechatRefundDelayMs, () => {
    created.status = 'SUCCESS';
    created.succeededAt = new Date();
    if (created.notifyUrl && !runtime.faults.dropNotifications) {
      runtime.notifier.send(wechatRefundNotification(runtime, trade, created), `wechat-refund-${created.refundId}`);
    }
  });
  return refundView(runtime, trade, created);
}

function refundView(runtime: Runtime, trade: SimTrade, found: SimRefund): Record<string, unknown> {
  return {
    refund_id: found.refundId,
    out_refund_no: found.outRefundNo,
    transaction_id: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(found.succeededAt ? { success_time: beijingRfc3339(found.succeededAt) } : {}),
    create_time: beijingRfc3339(found.createdAt),
    status: found.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: trade.amountFen,
      refund: found.amountFen,
      payer_total: trade.amountFen,
      payer_refund: found.amountFen,
      settlement_total: trade.amountFen,
      settlement_refund: found.amountFen,
      discount_refund: 0,
      currency: 'CNY',
    },
  };
}

function notification(
  runtime: Runtime,
  trade: SimTrade,
  event: { type: string; summary: string; originalType: 'transaction' | 'refund'; plaintext: string; url: string },
  variant?: ForgedVariant,
): OutgoingNotification {
  const nonce = randomToken(12);
  let ciphertext = aesGcmEncrypt(event.plaintext, runtime.wechat.apiV3Key, nonce, event.originalType);
  if (variant === 'tampered-ciphertext') {
    const bytes = Buffer.from(ciphertext, 'base64');
    bytes[0] = bytes[0]! ^ 0x01;
    ciphertext = bytes.toString('base64');
  }
  const body = JSON.stringify({
    id: randomUUID(),
    create_time: beijingRfc3339(new Date()),
    resource_type: 'encrypt-resource',
    event_type: event.type,
    summary: event.summary,
    resource: { original_type: event.originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: event.originalType, nonce },
  });
  const key = variant === 'bad-signature' ? generateRsaKeyPair().privateKey : undefined;
  return {
    provider: 'wechat',
    kind: event.type,
    outTradeNo: trade.outTradeNo,
    url: event.url,
    // Each attempt is signed afresh (a new timestamp), as WeChat Pay re-signs its retries.
    build: () => ({
      headers: {
        'content-type': 'application/json',
        ...signatureHeaders(runtime, body, { key, timestamp: variant === 'stale-timestamp' ? Math.floor(Date.now() / 1000) - 600 : undefined }),
      },
      body,
    }),
    acknowledged: (status) => status === 200 || status === 204,
  };
}

export function wechatPaidNotification(runtime: Runtime, trade: SimTrade, variant?: ForgedVariant): OutgoingNotification {
  const view = transactionView(runtime, trade, {
    ...(variant === 'other-amount' ? { amountFen: trade.amountFen + 1 } : {}),
    ...(variant === 'other-app' ? { appid: 'wx0000000000000000', mchid: '1900009999' } : {}),
  });
  return notification(runtime, trade, { type: 'TRANSACTION.SUCCESS', summary: '支付成功', originalType: 'transaction', plaintext: JSON.stringify(view), url: trade.notifyUrl }, variant);
}

function wechatRefundNotification(runtime: Runtime, trade: SimTrade, found: SimRefund): OutgoingNotification {
  const plaintext = JSON.stringify({
    mchid: runtime.wechat.mchid,
    out_trade_no: trade.outTradeNo,
    transaction_id: trade.tradeNo,
    out_refund_no: found.outRefundNo,
    refund_id: found.refundId,
    refund_status: found.status,
    success_time: found.succeededAt ? beijingRfc3339(found.succeededAt) : undefined,
    user_received_account: '支付用户零钱',
    amount: { total: trade.amountFen, refund: found.amountFen, payer_total: trade.amountFen, payer_refund: found.amountFen },
  });
  return notification(runtime, trade, { type: 'REFUND.SUCCESS', summary: '退款成功', originalType: 'refund', plaintext, url: found.notifyUrl! });
}

/** WeChat assigns the transaction id when the trade is paid. */
export function wechatTransactionId(at: Date): string {
  return `4200${at.toISOString().slice(0, 10).replace(/-/g, '')}${randomDigits(14)}`;
}
