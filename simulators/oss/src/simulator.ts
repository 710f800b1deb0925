import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { authenticate, type AuthResult, type Credentials, type SignedRequest } from './signature.ts';

/** One stored object. */
interface StoredObject {
  body: Buffer;
  contentType: string;
  meta: Record<string, string>;
  etag: string;
  lastModified: number;
}

export interface OssSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Buckets that exist (default ["firefly-dev"]). The first one answers custom-domain (cname) requests. */
  buckets?: string[];
  /** AccessKeyId → AccessKeySecret (default { "sim-access-key-id": "sim-access-key-secret" }). */
  accessKeys?: Record<string, string>;
  /** STS security tokens accepted (default ["sim-sts-token"]). */
  stsTokens?: string[];
  /** Largest object accepted by a PUT (default 50 MB). */
  maxObjectBytes?: number;
  /**
   * The buckets' CORS rule (OSS PutBucketCors): origins whose pages may call the bucket from a browser — the web
   * client PUTs a reference image to a signed upload URL. Default ["*"] (any origin); [] answers every preflight
   * 403, as a bucket without a rule does.
   */
  corsAllowedOrigins?: string[];
}

/** What a test (or the log) may know about one request; never a secret or a signature. */
export interface RecordedOssRequest {
  method: string;
  bucket: string;
  key: string;
  status: number;
  auth: string;
  accessKeyId: string | undefined;
  code: string | undefined;
}

export interface OssSimulator {
  /** `http://127.0.0.1:<port>`: the endpoint for header-signed calls (bucket goes in the Host header). */
  url: string;
  /** `http://localhost:<port>`: an endpoint with a host name, which signed URLs need (ali-oss refuses IPs there). */
  localUrl: string;
  port: number;
  buckets: readonly string[];
  accessKeyId: string;
  accessKeySecret: string;
  /** Every request, newest last (bounded). */
  requests(): RecordedOssRequest[];
  /** Stored keys of a bucket (tests check what exists). */
  keys(bucket?: string): string[];
  /** Moves the simulator clock (expiry of signed URLs, request time skew). */
  advanceClock(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

const MAX_RECORDED = 2000;

/** Starts an OSS simulator: PutObject, GetObject (Range), HeadObject, DeleteObject, every OSS signature form. */
export async function startOssSimulator(options: OssSimulatorOptions = {}): Promise<OssSimulator> {
  const buckets = options.buckets ?? ['firefly-dev'];
  const accessKeys = options.accessKeys ?? { 'sim-access-key-id': 'sim-access-key-secret' };
  const credentials: Credentials = { keys: new Map(Object.entries(accessKeys)), stsTokens: new Set(options.stsTokens ?? ['sim-sts-token']) };
  const maxObjectBytes = options.maxObjectBytes ?? 50 * 1024 * 1024;
  const corsOrigins = options.corsAllowedOrigins ?? ['*'];
  const store = new Map<string, Map<string, StoredObject>>(buckets.map((b) => [b, new Map()]));
  const log: RecordedOssRequest[] = [];
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, req.method ?? 'GET', 500, 'InternalError', error instanceof Error ? error.message : 'internal error', '');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://oss.local');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (url.pathname.startsWith('/__simulator/')) return admin(req, res, url);
    if (cors(req, res, method)) return;

    const target = resolveTarget(req, url);
    const record: RecordedOssRequest = { method, bucket: target.bucket, key: target.key, status: 0, auth: 'none', accessKeyId: undefined, code: undefined };
    const finish = (status: number, code?: string) => {
      record.status = status;
      record.code = code;
      log.push(record);
      if (log.length > MAX_RECORDED) log.splice(0, log.length - MAX_RECORDED);
    };
    const objects = store.get(target.bucket);
    if (!objects) {
      finish(404, 'NoSuchBucket');
      return sendError(res, method, 404, 'NoSuchBucket', 'The specified bucket does not exist.', target.bucket);
    }
    const signed: SignedRequest = { method, headers: req.headers, query: parseQuery(req.url ?? ''), bucket: target.bucket, key: target.key };
    const auth: AuthResult = authenticate(signed, credentials, now());
    if (!auth.ok) {
      // A key the simulator does not know is never recorded (a real key pointed here by mistake).
      if (auth.accessKeyId && credentials.keys.has(auth.accessKeyId)) record.accessKeyId = auth.accessKeyId;
      finish(auth.status, auth.code);
      await drain(req);
      return sendError(res, method, auth.status, auth.code, auth.message, target.bucket, target.key);
    }
    record.auth = auth.kind;
    record.accessKeyId = auth.accessKeyId;
    if (auth.kind === 'anonymous') {
      // Buckets here are private, as the platform's are.
      finish(403, 'AccessDenied');
      await drain(req);
      return sendError(res, method, 403, 'AccessDenied', 'You have no right to access this object because of bucket acl.', target.bucket, target.key);
    }
    if (target.key === '') {
      finish(400, 'InvalidArgument');
      await drain(req);
      return sendError(res, method, 400, 'InvalidArgument', 'Bucket-level operations are not simulated.', target.bucket);
    }

    if (method === 'PUT') {
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxObjectBytes) {
        finish(400, 'EntityTooLarge');
        req.destroy();
        return sendError(res, method, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', target.bucket, target.key);
      }
      const body = await readBody(req, maxObjectBytes);
      if (body === undefined) {
        finish(400, 'EntityTooLarge');
        return sendError(res, method, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', target.bucket, target.key);
      }
      const md5 = createHash('md5').update(body);
      const digest = md5.copy().digest('base64');
      const sentMd5 = req.headers['content-md5'];
      if (typeof sentMd5 === 'string' && sentMd5 !== digest) {
        finish(400, 'InvalidDigest');
        return sendError(res, method, 400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.', target.bucket, target.key);
      }
      const meta: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (name.startsWith('x-oss-meta-') && typeof value === 'string') meta[name] = value;
      const etag = `"${md5.digest('hex').toUpperCase()}"`;
      objects.set(target.key, { body, contentType: req.headers['content-type'] ?? 'application/octet-stream', meta, etag, lastModified: now() });
      finish(200);
      res.writeHead(200, { ...baseHeaders(), etag, 'content-length': '0' }).end();
      return;
    }
    if (method === 'DELETE') {
      objects.delete(target.key);
      finish(204);
      res.writeHead(204, baseHeaders()).end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      const object = objects.get(target.key);
      if (!object) {
        finish(404, 'NoSuchKey');
        return sendError(res, method, 404, 'NoSuchKey', 'The specified key does not exist.', target.bucket, target.key);
      }
      const headers: Record<string, string> = {
        ...baseHeaders(),
        ...object.meta,
        etag: object.etag,
        'last-modified': new Date(object.lastModified).toUTCString(),
        'content-type': object.contentType,
        'accept-ranges': 'bytes',
      };
      // Signed URLs may override response headers (response-content-type, response-content-disposition, …).
      for (const { key, value } of signed.query) if (key.startsWith('response-') && value) headers[key.slice('response-'.length)] = value;
      const range = method === 'GET' ? parseRange(req.headers.range, object.body.length) : undefined;
      if (range) {
        const part = object.body.subarray(range.start, range.end + 1);
        headers['content-range'] = `bytes ${range.start}-${range.end}/${object.body.length}`;
        headers['content-length'] = String(part.length);
        finish(206);
        res.writeHead(206, headers).end(part);
        return;
      }
      headers['content-length'] = String(object.body.length);
      finish(200);
      res.writeHead(200, headers);
      res.end(method === 'GET' ? object.body : undefined);
      return;
    }
    finish(405, 'MethodNotAllowed');
    await drain(req);
    return sendError(res, method, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', target.bucket, target.key);
  }

  /**
   * Browser calls, as OSS answers them under a CORS rule: a preflight (OPTIONS with Access-Control-Request-Method)
   * is answered here (true: handled) — 200 with the allowed method and headers, or 403 AccessForbidden for an origin
   * or method the rule does not allow; any other request from an allowed origin gets Access-Control-Allow-Origin and
   * the exposed ETag. The request itself is still authenticated as usual.
   */
  function cors(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (corsOrigins.includes('*') || corsOrigins.includes(origin));
    const requested = req.headers['access-control-request-method'];
    if (method === 'OPTIONS' && origin !== undefined && typeof requested === 'string') {
      if (!allowed || !CORS_METHODS.includes(requested.toUpperCase())) {
        sendError(res, method, 403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed by the bucket\'s CORS rule.', '');
        return true;
      }
      res
        .writeHead(200, {
          ...baseHeaders(),
          'access-control-allow-origin': origin,
          'access-control-allow-methods': CORS_METHODS.join(', '),
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
          'access-control-max-age': '600',
          vary: 'Origin',
          'content-length': '0',
        })
        .end();
      return true;
    }
    if (allowed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', 'ETag, x-oss-request-id');
      res.setHeader('vary', 'Origin');
    }
    return false;
  }

  /** Virtual-host (`<bucket>.<host>`), path-style (`/<bucket>/<key>`) or custom-domain (`/<key>`, first bucket). */
  function resolveTarget(req: IncomingMessage, url: URL): { bucket: string; key: string } {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const path = url.pathname.slice(1);
    const decode = (text: string) => {
      try {
        return decodeURIComponent(text);
      } catch {
        return text;
      }
    };
    if (hostname.includes('.') && isIP(hostname) === 0) return { bucket: hostname.split('.')[0]!, key: decode(path) };
    const slash = path.indexOf('/');
    const first = decode(slash === -1 ? path : path.slice(0, slash));
    if (store.has(first)) return { bucket: first, key: decode(slash === -1 ? '' : path.slice(slash + 1)) };
    return { bucket: buckets[0] ?? '', key: decode(path) };
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await drain(req);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/__simulator/requests') return json(200, log);
    if (req.method === 'GET' && url.pathname === '/__simulator/keys') return json(200, [...(store.get(url.searchParams.get('bucket') ?? buckets[0] ?? '')?.keys() ?? [])]);
    if (req.method === 'POST' && url.pathname === '/__simulator/reset') {
      simulator.reset();
      return json(200, { ok: true });
    }
    if (req.method === 'POST' && url.pathname === '/__simulator/clock') {
      const ms = Number(url.searchParams.get('advanceMs'));
      if (!Number.isFinite(ms)) return json(400, { error: 'advanceMs must be a number' });
      clockOffset += ms;
      return json(200, { now: now() });
    }
    json(404, { error: 'unknown simulator route' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const [accessKeyId, accessKeySecret] = Object.entries(accessKeys)[0] ?? ['', ''];
  const simulator: OssSimulator = {
    url: `http://127.0.0.1:${port}`,
    localUrl: `http://localhost:${port}`,
    port,
    buckets,
    accessKeyId,
    accessKeySecret,
    requests: () => [...log],
    keys: (bucket = buckets[0] ?? '') => [...(store.get(bucket)?.keys() ?? [])],
    advanceClock: (ms) => {
      clockOffset += ms;
    },
    reset: () => {
      for (const objects of store.values()) objects.clear();
      log.length = 0;
      clockOffset = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return simulator;
}

/** Methods the simulated CORS rule allows (what a browser does with signed URLs: read and upload). */
const CORS_METHODS = ['GET', 'HEAD', 'PUT'];

function baseHeaders(): Record<string, string> {
  return { 'x-oss-request-id': randomBytes(12).toString('hex').toUpperCase(), server: 'AliyunOSS', date: new Date().toUTCString() };
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** OSS's XML error; HEAD answers carry no body (ali-oss then names the error from the status). */
function sendError(res: ServerResponse, method: string, status: number, code: string, message: string, bucket: string, key?: string): void {
  const headers = baseHeaders();
  const requestId = headers['x-oss-request-id']!;
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${escapeXml(code)}</Code>\n  <Message>${escapeXml(message)}</Message>\n` +
    `  <RequestId>${requestId}</RequestId>\n  <HostId>${escapeXml(bucket)}.oss-simulator</HostId>\n${key ? `  <Key>${escapeXml(key)}</Key>\n` : ''}</Error>\n`;
  if (method === 'HEAD') {
    res.writeHead(status, { ...headers, 'x-oss-err': Buffer.from(xml).toString('base64') }).end();
    return;
  }
  res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) }).end(xml);
}

/** Query pairs from the raw URL, keeping bare keys (`?acl`) distinguishable from empty values (`?acl=`). */
function parseQuery(rawUrl: string): { key: string; value: string | null }[] {
  const at = rawUrl.indexOf('?');
  if (at === -1) return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, '%20'));
    } catch {
      return text;
    }
  };
  return rawUrl
    .slice(at + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? { key: decode(pair), value: null } : { key: decode(pair.slice(0, eq)), value: decode(pair.slice(eq + 1)) };
    });
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  // OSS ignores an unsatisfiable range and answers the whole object.
  return start <= end && start < size ? { start, end } : undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const chunk of req) void chunk;
}
