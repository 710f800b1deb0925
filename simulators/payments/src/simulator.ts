import { createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alipayPaidNotification, alipayTradeStatus, handleAlipayV3 } from './alipay.ts';
import { CashierError, handleCashier, payTrade, renotifyTrade } from './cashier.ts';
import { generateRsaKeyPair } from './crypto.ts';
import { Notifier } from './notifier.ts';
import { readBody, sendJson, type Exchange, type Runtime } from './runtime.ts';
import { TradeBook } from './trades.ts';
import type { ForgedVariant, PaymentSimulator, PaymentSimulatorFaults, PaymentSimulatorOptions, RecordedRequest, TradeView } from './types.ts';
import { handleWechat, wechatPaidNotification, wechatTradeState } from './wechat.ts';

const DEFAULT_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];
const FORGED: readonly ForgedVariant[] = ['bad-signature', 'other-amount', 'other-app', 'stale-timestamp', 'tampered-ciphertext', 'duplicate'];

function publicHalf(privateKey: string): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Starts the payment simulator: Alipay's OpenAPI (v3 REST trade calls, v2 page pay) and WeChat Pay API v3 on one
 * port, a cashier page per trade, signed notifications re-sent until acknowledged, and admin routes under
 * `/__simulator/` for tests run as separate processes.
 */
export async function startPaymentSimulator(options: PaymentSimulatorOptions): Promise<PaymentSimulator> {
  const alipayPrivateKey = options.alipay.privateKey ?? generateRsaKeyPair().privateKey;
  const platformPrivateKey = options.wechat.platformPrivateKey ?? generateRsaKeyPair().privateKey;
  if (Buffer.byteLength(options.wechat.apiV3Key, 'utf8') !== 32) throw new Error('wechat.apiV3Key must be 32 bytes');
  const requests: RecordedRequest[] = [];
  const maxRecorded = options.maxRecordedRequests ?? 1_000;
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';
  const faults: PaymentSimulatorFaults = {};
  const runtime: Runtime = {
    publicUrl: () => options.publicUrl?.replace(/\/$/, '') ?? origin,
    trades: new TradeBook(),
    notifier: new Notifier(options.notifyRetryMs ?? DEFAULT_RETRY_MS),
    faults,
    maxClockSkewSeconds: options.maxClockSkewSeconds ?? 300,
    wechatRefundDelayMs: options.wechatRefundDelayMs ?? 300,
    alipay: {
      appId: options.alipay.appId,
      appPublicKey: options.alipay.appPublicKey,
      privateKey: alipayPrivateKey,
      publicKey: publicHalf(alipayPrivateKey),
      sellerId: options.alipay.sellerId ?? '2088000000000001',
    },
    wechat: {
      mchid: options.wechat.mchid,
      appid: options.wechat.appid,
      merchantSerial: options.wechat.merchantSerial,
      merchantPublicKey: options.wechat.merchantPublicKey,
      apiV3Key: options.wechat.apiV3Key,
      platformPrivateKey,
      platformPublicKey: publicHalf(platformPrivateKey),
      platformPublicKeyId: options.wechat.platformPublicKeyId ?? 'PUB_KEY_ID_0114232134912410000000000000000000',
    },
    record(entry) {
      requests.push({ ...entry, at: new Date().toISOString() });
      if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);
    },
    later(ms, fn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timer.unref();
      timers.add(timer);
    },
  };

  const requireTrade = (outTradeNo: string) => {
    const trade = runtime.trades.find(outTradeNo);
    if (!trade) throw new CashierError(404, `No trade ${outTradeNo}`);
    return trade;
  };

  const view = (outTradeNo: string): TradeView | undefined => {
    const trade = runtime.trades.find(outTradeNo);
    if (!trade) return undefined;
    return {
      provider: trade.provider,
      outTradeNo: trade.outTradeNo,
      tradeNo: trade.tradeNo,
      state: trade.provider === 'alipay' ? alipayTradeStatus(runtime, trade) : wechatTradeState(runtime, trade),
      amountFen: trade.amountFen,
      refundedFen: runtime.trades.refundedFen(trade),
      closed: trade.status === 'CLOSED',
      paid: trade.status === 'PAID',
    };
  };

  const forge = (outTradeNo: string, variant: ForgedVariant) => {
    const trade = requireTrade(outTradeNo);
    if (trade.status !== 'PAID') throw new CashierError(409, 'Forged notifications copy a paid trade: pay it first');
    const message = trade.provider === 'alipay' ? alipayPaidNotification(runtime, trade, variant) : wechatPaidNotification(runtime, trade, variant);
    return runtime.notifier.once(message);
  };

  const reset = () => {
    runtime.trades.clear();
    runtime.notifier.reset();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    requests.splice(0);
    for (const key of Object.keys(faults)) delete faults[key as keyof PaymentSimulatorFaults];
  };

  async function admin(exchange: Exchange): Promise<void> {
    const { method, url, res } = exchange;
    const path = url.pathname.slice('/__simulator'.length);
    const json = () => (exchange.body ? (JSON.parse(exchange.body) as Record<string, unknown>) : {});
    let match: RegExpExecArray | null;
    if (method === 'GET' && path === '/requests') return sendJson(res, 200, requests);
    if (method === 'GET' && path === '/notifications') return sendJson(res, 200, runtime.notifier.list());
    if (method === 'GET' && path === '/keys') {
      return sendJson(res, 200, { alipayPublicKey: runtime.alipay.publicKey, wechatPlatformPublicKey: runtime.wechat.platformPublicKey, wechatPlatformPublicKeyId: runtime.wechat.platformPublicKeyId });
    }
    if (method === 'PUT' && path === '/faults') {
      const body = json();
      for (const key of Object.keys(faults)) delete faults[key as keyof PaymentSimulatorFaults];
      if (body.dropNotifications === true) faults.dropNotifications = true;
      if (body.systemError === true) faults.systemError = true;
      return sendJson(res, 200, faults);
    }
    if (method === 'POST' && path === '/reset') {
      reset();
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'GET' && (match = /^\/trades\/([^/]+)$/.exec(path))) {
      const found = view(decodeURIComponent(match[1]!));
      return found ? sendJson(res, 200, found) : sendJson(res, 404, { error: 'no such trade' });
    }
    if (method === 'POST' && (match = /^\/trades\/([^/]+)\/(pay|renotify|forge)$/.exec(path))) {
      const outTradeNo = decodeURIComponent(match[1]!);
      if (match[2] === 'pay') {
        payTrade(runtime, requireTrade(outTradeNo));
        return sendJson(res, 200, view(outTradeNo));
      }
      if (match[2] === 'renotify') return sendJson(res, 200, await renotifyTrade(runtime, requireTrade(outTradeNo)));
      const variant = json().variant as ForgedVariant;
      if (!FORGED.includes(variant)) return sendJson(res, 400, { error: `variant must be one of ${FORGED.join(', ')}` });
      return sendJson(res, 200, await forge(outTradeNo, variant));
    }
    sendJson(res, 404, { error: `no admin route ${method} ${url.pathname}` });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const exchange: Exchange = { req, res, method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://simulator.local'), body: await readBody(req) };
      if (exchange.url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (exchange.url.pathname.startsWith('/__simulator/')) return admin(exchange);
      if (handleAlipayV3(runtime, exchange)) return;
      if (handleWechat(runtime, exchange)) return;
      if (await handleCashier(runtime, exchange)) return;
      sendJson(res, 404, { code: 'NOT_FOUND', message: `The payment simulator does not serve ${exchange.method} ${exchange.url.pathname}` });
    })().catch((error: unknown) => {
      const status = error instanceof CashierError ? error.status : 500;
      if (!res.headersSent) sendJson(res, status, { code: status === 500 ? 'SYSTEM_ERROR' : 'REFUSED', message: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

  return {
    url: origin,
    alipayGatewayUrl: `${origin}/gateway.do`,
    alipayEndpoint: origin,
    alipayPublicKey: runtime.alipay.publicKey,
    wechatBaseUrl: `${origin}/`,
    wechatPlatformPublicKey: runtime.wechat.platformPublicKey,
    wechatPlatformPublicKeyId: runtime.wechat.platformPublicKeyId,
    async pay(outTradeNo) {
      payTrade(runtime, requireTrade(outTradeNo));
    },
    renotify: (outTradeNo) => renotifyTrade(runtime, requireTrade(outTradeNo)),
    forge,
    trade: view,
    notifications: () => runtime.notifier.list(),
    requests: () => [...requests],
    setFaults(next) {
      for (const key of Object.keys(faults)) delete faults[key as keyof PaymentSimulatorFaults];
      Object.assign(faults, next);
    },
    reset,
    async close() {
      runtime.notifier.close();
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
