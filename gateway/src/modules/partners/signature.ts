import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { unauthenticated } from '@firefly/errors';
import type { Redis } from '@firefly/redis';

const TIMESTAMP_HEADER = 'x-firefly-timestamp';
const NONCE_HEADER = 'x-firefly-nonce';
const SIGNATURE_HEADER = 'x-firefly-signature';
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** A nonce is remembered this long: twice the widest window a timestamp may be accepted in, either side. */
const NONCE_TTL_SECONDS = 600;

/**
 * The string a partner signs (docs/partners.md, "Signing a request"):
 * `METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(sha256(BODY))`, PATH with its query string, BODY the raw bytes received.
 */
function canonicalRequest(method: string, path: string, timestamp: string, nonce: string, body: Uint8Array): string {
  return [method.toUpperCase(), path, timestamp, nonce, createHash('sha256').update(body).digest('hex')].join('\n');
}

/** base64 HMAC-SHA256 of the canonical string under the key's secret. */
function signRequest(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('base64');
}

const single = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Checks one signed request; throws UNAUTHENTICATED (nothing runs) when the signature headers are missing or
 * malformed, the timestamp is more than `windowSeconds` from this server's clock, the signature does not match
 * (compared in constant time), or the nonce was already used within 10 minutes on any replica (SET NX in Redis,
 * written only once the signature is good, so forged requests cannot use up a partner's nonces).
 */
export async function verifySignedRequest(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: Uint8Array },
  key: { id: string; secret: string },
  options: { redis: Redis; windowSeconds: number; now?: number },
): Promise<void> {
  const timestamp = single(request.headers[TIMESTAMP_HEADER]);
  const nonce = single(request.headers[NONCE_HEADER]);
  const signature = single(request.headers[SIGNATURE_HEADER]);
  if (!timestamp || !nonce || !signature) throw unauthenticated(`Signed requests need ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER}`);
  if (!/^\d{1,12}$/.test(timestamp)) throw unauthenticated(`${TIMESTAMP_HEADER} must be unix seconds`);
  if (!NONCE_PATTERN.test(nonce)) throw unauthenticated(`${NONCE_HEADER} must be 16–64 characters of A–Z, a–z, 0–9, _ and -`);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > options.windowSeconds) throw unauthenticated(`${TIMESTAMP_HEADER} is more than ${options.windowSeconds} s from the server's clock`);
  const expected = Buffer.from(signRequest(key.secret, canonicalRequest(request.method, request.path, timestamp, nonce, request.body)), 'base64');
  const presented = Buffer.from(signature, 'base64');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw unauthenticated('Invalid request signature');
  const fresh = await options.redis.set(`partner-nonce:${key.id}:${nonce}`, '1', 'EX', NONCE_TTL_SECONDS, 'NX');
  if (fresh !== 'OK') throw unauthenticated(`${NONCE_HEADER} was already used`);
}
