import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { acs3Signature, canonicalRequest, parseAcs3Authorization, sha256Hex } from '../acs3.ts';

/**
 * A local stand-in for Alibaba Cloud's SMS API (Dysmsapi 2017-05-25), faithful to the wire protocol: it verifies the ACS3-HMAC-SHA256 signature exactly as Alibaba Cloud does
 * (over the `host` header as received, the headers named in SignedHeaders, the body hash), checks the date and
 * nonce, applies the business rules of SendSms with HTTP 200 business errors, and records every delivered message
 * so tests can read the code — in process through {@link AliyunSmsDouble.messages}, or over HTTP at
 * `GET /__double/messages?phone=…` (used by `npm start` in development).
 */
export interface AliyunSmsDoubleOptions {
  /** AccessKeyId → AccessKeySecret accepted by the double. Default `{ 'test-access-key': 'test-access-secret' }`. */
  accessKeys?: Record<string, string>;
  /** Approved signatures. Default `['萤火AI']`. */
  signNames?: string[];
  /**
   * Approved templates and the variables each requires. Default `{ SMS_000000001: ['code'], SMS_000000002:
   * ['credits', 'amount'] }` (a verification code, then a payment-success notice).
   */
  templates?: Record<string, string[]>;
  /** Flow control per (signature, number); defaults are Aliyun's for verification codes: 1/min, 5/h, 10/day. */
  limits?: { perMinute?: number; perHour?: number; perDay?: number };
  /** Allowed clock skew of `x-acs-date`, seconds. Default 900. */
  maxSkewSeconds?: number;
  /** Default 0 (a free port). */
  port?: number;
}

export interface DeliveredSms {
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  bizId: string;
  at: Date;
}

export type AliyunSmsFault = 'http-500' | 'throttling' | 'timeout';

export interface AliyunSmsDouble {
  /** `http://127.0.0.1:<port>`: give it to the client as its endpoint. */
  url: string;
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  templateCode: string;
  /** The payment-success template (`SMS_000000002` unless `templates` says otherwise). */
  orderPaidTemplateCode: string;
  /** Messages delivered so far, oldest first; only those to `phone` when given. */
  messages(phone?: string): DeliveredSms[];
  /** The `code` parameter of the newest message to `phone`, if any. */
  lastCode(phone: string): string | undefined;
  /** Makes the next `count` requests fail the given way (after authentication). */
  injectFault(fault: AliyunSmsFault, count?: number): void;
  /** Forgets messages, flow-control counters and faults. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_KEYS: Record<string, string> = { 'test-access-key': 'test-access-secret' };
const ORDER_PAID_TEMPLATE = 'SMS_000000002';
const MAINLAND_MOBILE = /^(?:\+?86|0086)?(1[3-9]\d{9})$/;

export async function startAliyunSmsDouble(options: AliyunSmsDoubleOptions = {}): Promise<AliyunSmsDouble> {
  const accessKeys = options.accessKeys ?? DEFAULT_KEYS;
  const signNames = options.signNames ?? ['萤火AI'];
  const templates = options.templates ?? { SMS_000000001: ['code'], [ORDER_PAID_TEMPLATE]: ['credits', 'amount'] };
  const limits = { perMinute: 1, perHour: 5, perDay: 10, ...options.limits };
  const maxSkewMs = (options.maxSkewSeconds ?? 900) * 1000;

  let delivered: DeliveredSms[] = [];
  let sendTimes = new Map<string, number[]>();
  let usedNonces = new Map<string, number>();
  const faults: AliyunSmsFault[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, gatewayError('InternalError', 'The request processing has failed due to some unknown error.'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://double');
    if (url.pathname === '/__double/messages' && req.method === 'GET') {
      const phone = url.searchParams.get('phone') ?? undefined;
      json(res, 200, { messages: messagesTo(phone) });
      return;
    }
    if (url.pathname !== '/' || (req.method !== 'POST' && req.method !== 'GET')) {
      json(res, 404, gatewayError('InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'));
      return;
    }

    // --- authentication (ACS3-HMAC-SHA256) ----------------------------------------------------------------
    const headers = lowerCaseHeaders(req);
    const auth = parseAcs3Authorization(headers.authorization);
    if (!auth) return json(res, 400, gatewayError('IncompleteSignature', 'The request signature does not conform to Aliyun standards.'));
    const secret = accessKeys[auth.accessKeyId];
    if (secret === undefined) return json(res, 404, gatewayError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.'));
    const payloadHash = sha256Hex(body);
    if (headers['x-acs-content-sha256'] !== payloadHash) {
      return json(res, 400, gatewayError('SignatureDoesNotMatch', 'Specified signature does not match our calculation.'));
    }
    if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.every((name) => name in headers)) {
      return json(res, 400, gatewayError('SignatureDoesNotMatch', 'Specified signature does not match our calculation.'));
    }
    const query = Object.fromEntries(url.searchParams.entries());
    const { canonical } = canonicalRequest({ method: req.method ?? 'POST', path: '/', query, headers, signedHeaders: auth.signedHeaders, payloadHash });
    const expected = Buffer.from(acs3Signature(secret, canonical), 'utf8');
    const given = Buffer.from(auth.signature, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return json(res, 400, {
        ...gatewayError('SignatureDoesNotMatch', 'Specified signature does not match our calculation.'),
        Recommend: 'Check the canonical request and the string to sign (ACS3-HMAC-SHA256).',
      });
    }
    const date = Date.parse(headers['x-acs-date'] ?? '');
    if (Number.isNaN(date) || Math.abs(Date.now() - date) > maxSkewMs) {
      return json(res, 400, gatewayError('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'));
    }
    const nonce = headers['x-acs-signature-nonce'];
    if (!nonce) return json(res, 400, gatewayError('MissingSignatureNonce', 'SignatureNonce is mandatory for this action.'));
    pruneNonces();
    if (usedNonces.has(nonce)) return json(res, 400, gatewayError('SignatureNonceUsed', 'Specified signature nonce was used already.'));
    usedNonces.set(nonce, Date.now());
    if (headers['x-acs-action'] !== 'SendSms') return json(res, 404, gatewayError('InvalidAction.NotFound', 'Specified api is not found.'));
    if (headers['x-acs-version'] !== '2017-05-25') return json(res, 400, gatewayError('InvalidVersion', 'Specified parameter Version is not valid.'));

    // --- faults ---------------------------------------------------------------------------------------------
    const fault = faults.shift();
    if (fault === 'timeout') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault === 'http-500') return json(res, 500, gatewayError('InternalError', 'The request processing has failed due to some unknown error.'));
    if (fault === 'throttling') return json(res, 400, gatewayError('Throttling.User', 'Request was denied due to user flow control.'));

    // --- SendSms business rules (HTTP 200, Code != OK) -------------------------------------------------------
    const { PhoneNumbers: phones, SignName: signName, TemplateCode: templateCode, TemplateParam: templateParam } = query;
    if (!phones || !signName || !templateCode) {
      const missing = !phones ? 'PhoneNumbers' : !signName ? 'SignName' : 'TemplateCode';
      return json(res, 400, gatewayError(`MissingParameter`, `The input parameter "${missing}" that is mandatory for processing this request is not supplied.`));
    }
    if (!signNames.includes(signName)) return business(res, 'isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
    const variables = templates[templateCode];
    if (!variables) return business(res, 'isv.SMS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');
    let params: Record<string, string> = {};
    if (templateParam !== undefined) {
      try {
        const parsed = JSON.parse(templateParam) as unknown;
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        params = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
      } catch {
        return business(res, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
      }
    }
    if (variables.some((name) => params[name] === undefined)) return business(res, 'isv.TEMPLATE_MISSING_PARAMETERS', '模板缺少变量');
    const numbers = phones.split(',').map((p) => p.trim());
    if (numbers.length > 1000) return business(res, 'isv.MOBILE_COUNT_OVER_LIMIT', '手机号码数量超过限制');
    const normalized: string[] = [];
    for (const number of numbers) {
      const match = MAINLAND_MOBILE.exec(number);
      if (!match?.[1]) return business(res, 'isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
      normalized.push(match[1]);
    }
    for (const phone of normalized) {
      const limited = flowControl(`${signName}|${phone}`);
      if (limited) return business(res, 'isv.BUSINESS_LIMIT_CONTROL', limited);
    }
    const bizId = `${Date.now()}${randomInt(100_000, 999_999)}^0`;
    for (const phone of normalized) {
      sendTimes.set(`${signName}|${phone}`, [...(sendTimes.get(`${signName}|${phone}`) ?? []), Date.now()]);
      delivered.push({ phone, signName, templateCode, params, bizId, at: new Date() });
    }
    json(res, 200, { Code: 'OK', Message: 'OK', BizId: bizId, RequestId: randomUUID().toUpperCase() });
  }

  /** Aliyun's documented default flow control for verification codes, per signature and number. */
  function flowControl(key: string): string | null {
    const now = Date.now();
    const times = (sendTimes.get(key) ?? []).filter((t) => now - t < 86_400_000);
    sendTimes.set(key, times);
    if (times.filter((t) => now - t < 60_000).length >= limits.perMinute) return `触发分钟级流控Permits:${limits.perMinute}`;
    if (times.filter((t) => now - t < 3_600_000).length >= limits.perHour) return `触发小时级流控Permits:${limits.perHour}`;
    if (times.length >= limits.perDay) return `触发天级流控Permits:${limits.perDay}`;
    return null;
  }

  function pruneNonces(): void {
    const cutoff = Date.now() - maxSkewMs;
    for (const [nonce, at] of usedNonces) if (at < cutoff) usedNonces.delete(nonce);
  }

  function messagesTo(phone: string | undefined): DeliveredSms[] {
    const wanted = phone ? (MAINLAND_MOBILE.exec(phone)?.[1] ?? phone) : undefined;
    return delivered.filter((m) => wanted === undefined || m.phone === wanted);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const [accessKeyId, accessKeySecret] = Object.entries(accessKeys)[0] ?? ['', ''];

  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId,
    accessKeySecret,
    signName: signNames[0] ?? '',
    templateCode: Object.keys(templates)[0] ?? '',
    orderPaidTemplateCode: ORDER_PAID_TEMPLATE in templates ? ORDER_PAID_TEMPLATE : (Object.keys(templates)[1] ?? ''),
    messages: (phone) => messagesTo(phone).map((m) => ({ ...m, params: { ...m.params } })),
    lastCode: (phone) => messagesTo(phone).at(-1)?.params.code,
    injectFault(fault, count = 1) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    reset() {
      delivered = [];
      sendTimes = new Map();
      usedNonces = new Map();
      faults.splice(0);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
    else if (Array.isArray(value)) out[name.toLowerCase()] = value.join(',');
  }
  return out;
}

function gatewayError(code: string, message: string) {
  return { RequestId: randomUUID().toUpperCase(), HostId: 'dysmsapi.aliyuncs.com', Code: code, Message: message };
}

function business(res: ServerResponse, code: string, message: string): void {
  json(res, 200, { Code: code, Message: message, RequestId: randomUUID().toUpperCase() });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}
