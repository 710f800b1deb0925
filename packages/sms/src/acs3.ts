import { createHash, createHmac } from 'node:crypto';

/**
 * Alibaba Cloud's ACS3-HMAC-SHA256 request signature (its "V3" signature: a canonical request over the method, path,
 * sorted query, the signed headers and the body's SHA-256, signed with HMAC-SHA256), as the current Dysmsapi SDK
 * sends it. Shared by our client (to sign) and the local double (to verify), and
 * checked against the official SDK in __tests__/aliyun-client.test.ts, so both sides cannot drift together.
 */
const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** `encodeURIComponent` plus `! ' ( ) *`, which Alibaba Cloud's canonical form also escapes. */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Sorted `name=enc(value)` pairs joined by `&`. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((name) => `${acsEncode(name)}=${acsEncode(params[name] ?? '')}`)
    .join('&');
}

/** Headers that take part in the signature: `host`, `content-type` and every `x-acs-*`, by lower-cased name. */
function signedHeaderNames(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .map((name) => name.toLowerCase())
    .filter((name) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-'))
    .sort();
}

export interface Acs3Input {
  method: string;
  /** Always `/` for RPC-style APIs such as SendSms. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Names to sign, lower-cased and sorted; default {@link signedHeaderNames}. */
  signedHeaders?: string[];
  /** Hex SHA-256 of the body (the `x-acs-content-sha256` header). */
  payloadHash: string;
}

export function canonicalRequest(input: Acs3Input): { canonical: string; signedHeaders: string } {
  const names = input.signedHeaders ?? signedHeaderNames(input.headers);
  const canonicalHeaders = names.map((name) => `${name}:${(input.headers[name] ?? '').trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = [input.method.toUpperCase(), input.path, canonicalQuery(input.query), canonicalHeaders, signedHeaders, input.payloadHash].join('\n');
  return { canonical, signedHeaders };
}

export function acs3Signature(secret: string, canonical: string): string {
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

/** The `Authorization` header value for a request. */
export function acs3Authorization(accessKeyId: string, secret: string, input: Acs3Input): string {
  const { canonical, signedHeaders } = canonicalRequest(input);
  return `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${acs3Signature(secret, canonical)}`;
}

/** Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`; null when malformed. */
export function parseAcs3Authorization(value: string | undefined): { accessKeyId: string; signedHeaders: string[]; signature: string } | null {
  if (!value?.startsWith(`${ACS3_ALGORITHM} `)) return null;
  const fields = new Map<string, string>();
  for (const part of value.slice(ACS3_ALGORITHM.length + 1).split(',')) {
    const index = part.indexOf('=');
    if (index > 0) fields.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) return null;
  return { accessKeyId, signedHeaders: signedHeaders.split(';').filter(Boolean), signature };
}
