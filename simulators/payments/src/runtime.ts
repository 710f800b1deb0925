import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Notifier } from './notifier.ts';
import type { TradeBook } from './trades.ts';
import type { PaymentSimulatorFaults, RecordedRequest } from './types.ts';

/** What every handler of the simulator shares. */
export interface Runtime {
  publicUrl: () => string;
  trades: TradeBook;
  notifier: Notifier;
  faults: PaymentSimulatorFaults;
  maxClockSkewSeconds: number;
  wechatRefundDelayMs: number;
  alipay: { appId: string; appPublicKey: string; privateKey: string; publicKey: string; sellerId: string };
  wechat: {
    mchid: string;
    appid: string;
    merchantSerial: string;
    merchantPublicKey: string;
    apiV3Key: string;
    platformPrivateKey: string;
    platformPublicKey: string;
    platformPublicKeyId: string;
  };
  record: (entry: Omit<RecordedRequest, 'at'>) => void;
  /** Timers of the simulator (WeChat refunds finishing), cleared on reset and close. */
  later: (ms: number, fn: () => void) => void;
}

/** One HTTP exchange: the raw body is read once before routing. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  body: string;
}

export async function readBody(req: IncomingMessage, limitBytes = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new Error(`body over ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8' });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
