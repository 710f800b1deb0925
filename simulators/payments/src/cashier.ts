import { AlipayError, alipayPaidNotification, alipayTradeStatus, pagePayTrade } from './alipay.ts';
import { fenToYuan } from './money.ts';
import type { OutgoingNotification } from './notifier.ts';
import { escapeHtml, send, type Exchange, type Runtime } from './runtime.ts';
import type { SimTrade } from './trades.ts';
import type { DeliveryResult } from './types.ts';
import { wechatPaidNotification, wechatTradeState, wechatTransactionId } from './wechat.ts';

/*
 * The cashier: what a buyer sees after opening a page-pay URL or scanning a QR code. GET shows the trade and a "pay"
 * button; a form POST (application/x-www-form-urlencoded) to the same URL with `action=pay` pays it and starts the
 * notification, `action=renotify` re-sends the last notification once.
 *   Alipay page pay:  GET|POST /gateway.do?<signed page-pay parameters>
 *   Alipay QR code:   GET|POST /alipay/qr/<token>                  (the precreate qr_code)
 *   WeChat Native:    GET|POST /wechat/scan?code_url=<weixin://…>  (stands in for scanning code_url in WeChat)
 */

export class CashierError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function paidNotification(runtime: Runtime, trade: SimTrade): OutgoingNotification {
  return trade.provider === 'alipay' ? alipayPaidNotification(runtime, trade) : wechatPaidNotification(runtime, trade);
}

/** Pays a waiting trade and starts delivering its notification (unless notifications are being dropped). */
export function payTrade(runtime: Runtime, trade: SimTrade): void {
  if (trade.status === 'PAID') throw new CashierError(409, 'This trade is already paid.');
  if (trade.status === 'CLOSED') throw new CashierError(410, 'This trade is closed (cancelled or expired); it can no longer be paid.');
  const now = new Date();
  trade.status = 'PAID';
  trade.paidAt = now;
  trade.scanned = true;
  if (trade.provider === 'wechat') trade.tradeNo = wechatTransactionId(now);
  if (!runtime.faults.dropNotifications) runtime.notifier.send(paidNotification(runtime, trade), `${trade.provider}-pay-${trade.outTradeNo}`);
}

export async function renotifyTrade(runtime: Runtime, trade: SimTrade): Promise<DeliveryResult> {
  const last = runtime.notifier.last(trade.outTradeNo);
  if (!last) {
    if (trade.status !== 'PAID') throw new CashierError(409, 'Nothing to re-send: this trade has not been paid.');
    return runtime.notifier.once(paidNotification(runtime, trade));
  }
  return runtime.notifier.once(last);
}

/** Handles the cashier routes; false when the path is not one of them. */
export async function handleCashier(runtime: Runtime, exchange: Exchange): Promise<boolean> {
  const { url, method } = exchange;
  const isAlipayPage = url.pathname === '/gateway.do';
  const qr = /^\/alipay\/qr\/([A-Za-z0-9]+)$/.exec(url.pathname);
  const isWechat = url.pathname === '/wechat/scan';
  if (!isAlipayPage && !qr && !isWechat) return false;
  let status = 200;
  let html: string;
  let error: string | undefined;
  let redirect: string | undefined;
  try {
    if (method !== 'GET' && method !== 'POST') throw new CashierError(405, 'GET shows the cashier, POST acts on it.');
    let trade: SimTrade | undefined;
    if (isAlipayPage) {
      trade = pagePayTrade(runtime, Object.fromEntries(url.searchParams));
    } else if (qr) {
      trade = runtime.trades.byTokenOf(qr[1]!);
      if (trade) trade.scanned = true;
    } else {
      const pr = /[?&]pr=([A-Za-z0-9]+)/.exec(url.searchParams.get('code_url') ?? '')?.[1];
      trade = pr ? runtime.trades.byTokenOf(pr) : undefined;
    }
    if (!trade) throw new CashierError(404, 'No such trade.');
    let message = '';
    if (method === 'POST') {
      const action = new URLSearchParams(exchange.body).get('action');
      if (action === 'pay') {
        payTrade(runtime, trade);
        message = 'Paid. The merchant is being notified.';
        if (trade.returnUrl) redirect = returnUrlOf(trade);
      } else if (action === 'renotify') {
        const result = await renotifyTrade(runtime, trade);
        message = `Notification sent again; the merchant answered ${result.status}.`;
      } else {
        throw new CashierError(400, 'action must be pay or renotify.');
      }
    }
    html = page(runtime, trade, message);
  } catch (caught) {
    if (caught instanceof AlipayError) {
      status = 400;
      error = caught.code;
      html = errorPage(`Alipay refused the request: ${caught.code} ${caught.message}`);
    } else if (caught instanceof CashierError) {
      status = caught.status;
      error = caught.message;
      html = errorPage(caught.message);
    } else {
      throw caught;
    }
  }
  runtime.record({ provider: 'cashier', method, path: redactSign(url), operation: isWechat ? 'wechat.cashier' : 'alipay.cashier', status, error });
  if (redirect) {
    send(exchange.res, 302, '', { location: redirect });
    return true;
  }
  send(exchange.res, status, html, { 'content-type': 'text/html; charset=utf-8' });
  return true;
}

/** Alipay sends the browser back to return_url with a signed summary (display only; never authoritative). */
function returnUrlOf(trade: SimTrade): string {
  const target = new URL(trade.returnUrl!);
  target.searchParams.set('out_trade_no', trade.outTradeNo);
  target.searchParams.set('trade_no', trade.tradeNo ?? '');
  target.searchParams.set('total_amount', fenToYuan(trade.amountFen));
  return target.toString();
}

function redactSign(url: URL): string {
  const copy = new URL(url);
  if (copy.searchParams.has('sign')) copy.searchParams.set('sign', '…');
  return copy.pathname + copy.search;
}

function page(runtime: Runtime, trade: SimTrade, message: string): string {
  const state = trade.provider === 'alipay' ? alipayTradeStatus(runtime, trade) : wechatTradeState(runtime, trade);
  const brand = trade.provider === 'alipay' ? 'Alipay (simulator)' : 'WeChat Pay (simulator)';
  const canPay = trade.status === 'WAITING';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${brand} cashier</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.5rem 1.5rem}.note{color:#a15c00}</style></head>
<body>
<h1>${brand}</h1>
<p class="note">This is a local payment simulator. No money moves.</p>
<dl>
  <dt>Subject</dt><dd>${escapeHtml(trade.subject)}</dd>
  <dt>Amount</dt><dd>¥${fenToYuan(trade.amountFen)}</dd>
  <dt>Merchant order</dt><dd>${escapeHtml(trade.outTradeNo)}</dd>
  <dt>State</dt><dd id="state">${state}</dd>
  <dt>Pay before</dt><dd>${trade.expiresAt.toISOString()}</dd>
</dl>
${message ? `<p id="message">${escapeHtml(message)}</p>` : ''}
<form method="post">
  ${canPay ? '<button name="action" value="pay">Pay</button>' : ''}
  ${trade.status === 'PAID' ? '<button name="action" value="renotify">Send the notification again</button>' : ''}
</form>
</body></html>`;
}

function errorPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cashier (simulator)</title></head><body><h1>Cannot pay</h1><p id="message">${escapeHtml(message)}</p></body></html>`;
}
