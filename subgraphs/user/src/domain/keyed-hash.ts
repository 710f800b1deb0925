import { createHmac, hkdfSync } from 'node:crypto';

/**
 * HMAC-SHA256 under a key derived from INTERNAL_TOKEN_SECRET for one purpose. Used wherever we must store or key
 * by something guessable — a 6-digit code, a phone number, an email — so that a Redis dump reveals none of them
 * (a plain SHA-256 of a 6-digit code is reversed by trying a million values).
 */
export function createKeyedHash(secret: string, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, 'firefly-user', purpose, 32));
  return (value: string) => createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}
