import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { unauthenticated } from '@firefly/errors';

const TIMESTAMP_HEADER = 'x-firefly-timestamp';
const NONCE_HEADER = 'x-firefly-nonce';
const SIGNATURE_HEADER = 'x-firefly-signature';
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;
/** A nonce is remembered this long: twice the widest window a timestamp may be accepted in, either side. */
export const NONCE_TTL_SECONDS = 600;

/**
 * The signing secret as an HMAC key, made once per key record (the gateway caches it with the record) rather than
 * imported again on every request. Partners key HMAC-SHA256 with the secret's UTF-8 text, as here.
 */
export function signingKeyOf(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

const single = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Checks one signed request's headers and signature (docs/partners.md, "Signing a request"); throws UNAUTHENTICATED
 * (nothing runs) when the signature headers are missing or malformed, the timestamp is more than `windowSeconds` from
 * this server's clock, or the signature does not match (compared in constant time). The signed string is
 * `METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(sha256(BODY))`, PATH with its query string, BODY the raw bytes received
 * (hashed as they are, never re-serialised). CPU only: returns the nonce, which the caller must then record as used
 * (Redis SET NX, in the same round trip as the key's other checks: admission.ts), so a forged request never uses up
 * a partner's nonce.
 */
export function checkRequestSignature(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: Uint8Array },
  key: KeyObject,
  options: { windowSeconds: number; now?: number },
): string {
  const timestamp = single(request.headers[TIMESTAMP_HEADER]);
  const nonce = single(request.headers[NONCE_HEADER]);
  const signature = single(request.headers[SIGNATURE_HEADER]);
  if (!timestamp || !nonce || !signature) throw unauthenticated(`Signed requests need ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER}`);
  if (!TIMESTAMP_PATTERN.test(timestamp)) throw unauthenticated(`${TIMESTAMP_HEADER} must be unix seconds`);
  if (!NONCE_PATTERN.test(nonce)) throw unauthenticated(`${NONCE_HEADER} must be 16–64 characters of A–Z, a–z, 0–9, _ and -`);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > options.windowSeconds) throw unauthenticated(`${TIMESTAMP_HEADER} is more than ${options.windowSeconds} s from the server's clock`);
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const expected = createHmac('sha256', key).update(`${request.method.toUpperCase()}\n${request.path}\n${timestamp}\n${nonce}\n${bodyHash}`, 'utf8').digest();
  const presented = Buffer.from(signature, 'base64');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw unauthenticated('Invalid request signature');
  return nonce;
}
