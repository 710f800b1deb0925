import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * OSS request authentication as the real service checks it (docs/oss.md §Signatures): V1 header
 * (`Authorization: OSS ak:sig`), V1 URL (`OSSAccessKeyId`, `Expires`, `Signature`), V4 header
 * (`Authorization: OSS4-HMAC-SHA256 …`) and V4 URL (`x-oss-signature-version=OSS4-HMAC-SHA256`, …).
 * Every function here recomputes the signature from what arrived; none trusts a value the client computed.
 */

/** What one request carries, decoded once by the simulator. */
export interface SignedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** Query pairs in arrival order; `value` is null for a bare key (`?acl`). */
  query: { key: string; value: string | null }[];
  bucket: string;
  /** Raw (decoded) object name, '' for bucket-level calls. */
  key: string;
}

export type AuthResult =
  | { ok: true; kind: 'v1-header' | 'v1-url' | 'v4-header' | 'v4-url' | 'anonymous'; accessKeyId: string | undefined; securityToken: string | undefined }
  | { ok: false; status: number; code: string; message: string; accessKeyId?: string };

export interface Credentials {
  /** AccessKeyId → AccessKeySecret. */
  keys: ReadonlyMap<string, string>;
  /** STS tokens accepted in `x-oss-security-token` / `security-token`. */
  stsTokens: ReadonlySet<string>;
}

/** V1 URL parameters that are part of the signature machinery rather than signed sub-resources. */
const V1_URL_PARAMS = new Set(['OSSAccessKeyId', 'Expires', 'Signature']);
/** Query keys OSS treats as sub-resources in a V1 header signature (those ali-oss passes as `subres`). */
const V1_SUBRESOURCES = new Set([
  'acl', 'append', 'bucketInfo', 'cname', 'comp', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'objectMeta',
  'partNumber', 'position', 'qos', 'referer', 'replication', 'restore', 'security-token', 'symlink', 'tagging', 'uploadId',
  'uploads', 'versionId', 'versioning', 'versions', 'website', 'x-oss-process', 'x-oss-traffic-limit',
  'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding',
]);

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const queryValue = (req: SignedRequest, key: string): string | undefined => {
  const found = req.query.find((q) => q.key === key);
  return found ? (found.value ?? '') : undefined;
};

/** encodeURIComponent with `! ' ( ) *` escaped too, as OSS V4 canonicalisation wants. */
function encodeV4(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function ossHeaderLines(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${(header(headers, name) ?? '').trim()}`);
}

function v1Resource(req: SignedRequest, subresources: { key: string; value: string | null }[]): string {
  let resource = `/${req.bucket}/${req.key}`;
  const sorted = [...subresources].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (sorted.length > 0) resource += `?${sorted.map((q) => (q.value ? `${q.key}=${q.value}` : q.key)).join('&')}`;
  return resource;
}

function v1StringToSign(req: SignedRequest, dateLine: string, subresources: { key: string; value: string | null }[]): string {
  return [
    req.method.toUpperCase(),
    header(req.headers, 'content-md5') ?? '',
    header(req.headers, 'content-type') ?? '',
    dateLine,
    ...ossHeaderLines(req.headers),
    v1Resource(req, subresources),
  ].join('\n');
}

const v1Signature = (secret: string, text: string): string => createHmac('sha1', secret).update(Buffer.from(text, 'utf8')).digest('base64');

function v4CanonicalRequest(req: SignedRequest, additional: string[], excludeQuery: string | undefined): string {
  const uri = encodeV4(`/${req.bucket}/${req.key}`).replace(/%2F/g, '/');
  const query = req.query
    .filter((q) => q.key !== excludeQuery)
    .map((q) => ({ key: encodeV4(q.key), value: q.value === null || q.value === '' ? null : encodeV4(q.value) }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((q) => (q.value === null ? q.key : `${q.key}=${q.value}`))
    .join('&');
  const names = new Set(additional);
  for (const name of Object.keys(req.headers)) if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-')) names.add(name);
  const canonicalHeaders = [...names].sort().map((name) => `${name}:${(header(req.headers, name) ?? '').trim()}\n`).join('');
  return [req.method.toUpperCase(), uri, query, canonicalHeaders, additional.join(';'), header(req.headers, 'x-oss-content-sha256') ?? 'UNSIGNED-PAYLOAD'].join('\n');
}

function v4Signature(secret: string, date: string, region: string, product: string, stringToSign: string): string {
  const k1 = createHmac('sha256', `aliyun_v4${secret}`).update(date).digest();
  const k2 = createHmac('sha256', k1).update(region).digest();
  const k3 = createHmac('sha256', k2).update(product).digest();
  const k4 = createHmac('sha256', k3).update('aliyun_v4_request').digest();
  return createHmac('sha256', k4).update(stringToSign).digest('hex');
}

/** `yyyymmddTHHMMSSZ` → epoch ms, or NaN. */
function parseV4Date(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

const denied = (code: string, message: string, accessKeyId?: string): AuthResult => ({ ok: false, status: 403, code, message, ...(accessKeyId ? { accessKeyId } : {}) });

function checkSts(token: string | undefined, credentials: Credentials): AuthResult | undefined {
  if (token !== undefined && !credentials.stsTokens.has(token)) return denied('InvalidSecurityToken', 'The security token you provided is invalid.');
  return undefined;
}

/** Maximum clock skew allowed for header-signed requests (OSS: 15 minutes). */
const MAX_SKEW_MS = 15 * 60_000;

/**
 * Authenticates one request. `now` is the simulator clock (tests move it to expire signed URLs).
 * A request with no signature at all is anonymous; whether that is allowed is the caller's decision.
 */
export function authenticate(req: SignedRequest, credentials: Credentials, now: number): AuthResult {
  const authorization = header(req.headers, 'authorization');
  if (authorization?.startsWith('OSS ')) return v1Header(req, authorization, credentials, now);
  if (authorization?.startsWith('OSS4-HMAC-SHA256 ')) return v4Header(req, authorization, credentials, now);
  if (queryValue(req, 'OSSAccessKeyId') !== undefined) return v1Url(req, credentials, now);
  if (queryValue(req, 'x-oss-signature-version') !== undefined) return v4Url(req, credentials, now);
  if (authorization) return { ok: false, status: 400, code: 'InvalidArgument', message: 'Authorization header is invalid.' };
  return { ok: true, kind: 'anonymous', accessKeyId: undefined, securityToken: undefined };
}

function v1Header(req: SignedRequest, authorization: string, credentials: Credentials, now: number): AuthResult {
  const m = /^OSS ([^:]+):(.+)$/.exec(authorization);
  if (!m) return { ok: false, status: 400, code: 'InvalidArgument', message: 'Authorization header is invalid.' };
  const [, accessKeyId, signature] = m as unknown as [string, string, string];
  const secret = credentials.keys.get(accessKeyId);
  if (secret === undefined) return denied('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  const dateLine = header(req.headers, 'x-oss-date') ?? header(req.headers, 'date') ?? '';
  const sentAt = Date.parse(dateLine);
  if (!Number.isFinite(sentAt) || Math.abs(now - sentAt) > MAX_SKEW_MS) {
    return denied('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', accessKeyId);
  }
  const subresources = req.query.filter((q) => V1_SUBRESOURCES.has(q.key));
  const expected = v1Signature(secret, v1StringToSign(req, dateLine, subresources));
  if (!sameText(expected, signature)) return denied('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', accessKeyId);
  const token = header(req.headers, 'x-oss-security-token');
  return checkSts(token, credentials) ?? { ok: true, kind: 'v1-header', accessKeyId, securityToken: token };
}

function v1Url(req: SignedRequest, credentials: Credentials, now: number): AuthResult {
  const accessKeyId = queryValue(req, 'OSSAccessKeyId') ?? '';
  const expires = queryValue(req, 'Expires') ?? '';
  const signature = queryValue(req, 'Signature') ?? '';
  const secret = credentials.keys.get(accessKeyId);
  if (secret === undefined) return denied('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  if (!/^\d+$/.test(expires)) return denied('AccessDenied', 'Invalid Expires.', accessKeyId);
  if (Number(expires) * 1000 < now) return denied('AccessDenied', 'Request has expired.', accessKeyId);
  const subresources = req.query.filter((q) => !V1_URL_PARAMS.has(q.key));
  const expected = v1Signature(secret, v1StringToSign(req, expires, subresources));
  if (!sameText(expected, signature)) return denied('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', accessKeyId);
  const token = queryValue(req, 'security-token');
  return checkSts(token, credentials) ?? { ok: true, kind: 'v1-url', accessKeyId, securityToken: token };
}

function parseCredential(credential: string): { accessKeyId: string; date: string; region: string; product: string } | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aliyun_v4_request') return undefined;
  const [accessKeyId, date, region, product] = parts as [string, string, string, string];
  return { accessKeyId, date, region, product };
}

function v4Header(req: SignedRequest, authorization: string, credentials: Credentials, now: number): AuthResult {
  const fields = new Map(
    authorization
      .slice('OSS4-HMAC-SHA256 '.length)
      .split(',')
      .map((part) => part.trim())
      .map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const),
  );
  const scope = parseCredential(fields.get('Credential') ?? '');
  const signature = fields.get('Signature') ?? '';
  if (!scope || !signature) return { ok: false, status: 400, code: 'InvalidArgument', message: 'Authorization header is invalid.' };
  const secret = credentials.keys.get(scope.accessKeyId);
  if (secret === undefined) return denied('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  const date = header(req.headers, 'x-oss-date') ?? '';
  const sentAt = parseV4Date(date);
  if (!Number.isFinite(sentAt) || Math.abs(now - sentAt) > MAX_SKEW_MS) {
    return denied('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', scope.accessKeyId);
  }
  const additional = (fields.get('AdditionalHeaders') ?? '').split(';').filter(Boolean);
  const canonical = v4CanonicalRequest(req, additional, undefined);
  const expected = v4Signature(secret, scope.date, scope.region, scope.product, v4StringToSign(date, scope, canonical));
  if (!sameText(expected, signature)) return denied('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', scope.accessKeyId);
  const token = header(req.headers, 'x-oss-security-token');
  return checkSts(token, credentials) ?? { ok: true, kind: 'v4-header', accessKeyId: scope.accessKeyId, securityToken: token };
}

function v4StringToSign(date: string, scope: { date: string; region: string; product: string }, canonical: string): string {
  return ['OSS4-HMAC-SHA256', date, `${scope.date}/${scope.region}/${scope.product}/aliyun_v4_request`, createHash('sha256').update(canonical).digest('hex')].join('\n');
}

function v4Url(req: SignedRequest, credentials: Credentials, now: number): AuthResult {
  if (queryValue(req, 'x-oss-signature-version') !== 'OSS4-HMAC-SHA256') return { ok: false, status: 400, code: 'InvalidArgument', message: 'Unsupported signature version.' };
  const scope = parseCredential(queryValue(req, 'x-oss-credential') ?? '');
  const signature = queryValue(req, 'x-oss-signature') ?? '';
  if (!scope || !signature) return { ok: false, status: 400, code: 'InvalidArgument', message: 'Signed URL is missing parameters.' };
  const secret = credentials.keys.get(scope.accessKeyId);
  if (secret === undefined) return denied('InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  const date = queryValue(req, 'x-oss-date') ?? '';
  const signedAt = parseV4Date(date);
  const expires = Number(queryValue(req, 'x-oss-expires') ?? '');
  if (!Number.isFinite(signedAt) || !Number.isInteger(expires)) return denied('AccessDenied', 'Invalid x-oss-date or x-oss-expires.', scope.accessKeyId);
  if (signedAt + expires * 1000 < now) return denied('AccessDenied', 'Request has expired.', scope.accessKeyId);
  const additional = (queryValue(req, 'x-oss-additional-headers') ?? '').split(';').filter(Boolean);
  // A header named as signed but absent cannot match: the canonical form would differ from what was signed.
  const canonical = v4CanonicalRequest(req, additional, 'x-oss-signature');
  const expected = v4Signature(secret, scope.date, scope.region, scope.product, v4StringToSign(date, scope, canonical));
  if (!sameText(expected, signature)) return denied('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', scope.accessKeyId);
  const token = queryValue(req, 'x-oss-security-token');
  return checkSts(token, credentials) ?? { ok: true, kind: 'v4-url', accessKeyId: scope.accessKeyId, securityToken: token };
}
