import { createHmac } from 'node:crypto';

/**
 * A blind index: HMAC-SHA256 under a key of its own (PII_INDEX_KEY), in hex, of a normalized value together with
 * its kind and tenant. Equal values of one kind in one tenant give equal digests, so a unique index on
 * (tenantId, digest) enforces uniqueness and finds the row by exact value; without the key a digest reveals nothing
 * and cannot be tested against guesses (a phone number has only ~10^10 candidates, so a plain hash would be reversed
 * by brute force). The tenant is part of the input, so one address in two tenants gives unrelated digests.
 *
 * Callers normalize first (emails trimmed and lower-cased, phones in E.164): the index only matches exact inputs.
 */
export function createBlindIndex(key: Buffer) {
  if (key.length < 32) throw new Error('the blind-index key must have at least 32 bytes');
  return (tenantId: string, kind: string, normalized: string): string =>
    createHmac('sha256', key).update(`${kind}\u0000${tenantId}\u0000${normalized}`, 'utf8').digest('hex');
}

export type BlindIndex = ReturnType<typeof createBlindIndex>;
