import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Partner API keys: what the user subgraph (which creates, revokes and suspends) and the gateway (which accepts
 * `x-api-key`) must agree on. A key is `ffk_` + 48 base64url characters (288 random bits); its first
 * {@link PARTNER_KEY_PREFIX_LENGTH} characters are its visible, unique prefix, and only the hex sha256 of the whole
 * key is stored — 288 random bits need no slow hash.
 *
 * Revocations and suspensions are markers in Redis, written by the user subgraph before it answers the mutation and
 * checked by every gateway replica on every partner request (in the one script that also records the request's nonce
 * and counts its rate), so a revoked key or a suspended partner is
 * refused everywhere from the next request on, whatever the replicas cache.
 *
 * Keys (under the client's keyPrefix):
 *   partner-key-revoked:<keyId>       '1', kept {@link REVOKED_MARKER_TTL_SECONDS} (far longer than any cache)
 *   partner-suspended:<partnerId>     '1' while the partner is SUSPENDED
 */
export const PARTNER_KEY_PREFIX_LENGTH = 16;
const KEY_MARK = 'ffk_';
const KEY_PATTERN = /^ffk_[A-Za-z0-9_-]{48}$/;
/** A gateway forgets a key's record well within this; the marker only has to outlive the caches. */
const REVOKED_MARKER_TTL_SECONDS = 7 * 86_400;

export interface GeneratedPartnerKey {
  /** The key, shown once. */
  key: string;
  prefix: string;
  /** Hex sha256 of the key: what is stored. */
  keyHash: string;
}

export function generatePartnerKey(): GeneratedPartnerKey {
  const key = KEY_MARK + randomBytes(36).toString('base64url');
  return { key, prefix: key.slice(0, PARTNER_KEY_PREFIX_LENGTH), keyHash: hashPartnerKey(key) };
}

/** A signing secret for HMAC-SHA256 request signatures: 256 random bits, base64url. */
export function generateSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashPartnerKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix of a well-formed key; null for anything that cannot be one of our keys. */
export function partnerKeyPrefixOf(key: string): string | null {
  return KEY_PATTERN.test(key) ? key.slice(0, PARTNER_KEY_PREFIX_LENGTH) : null;
}

/** Compares the presented key's hash with the stored one in constant time. */
export function partnerKeyMatches(presentedKey: string, storedHash: string): boolean {
  const presented = Buffer.from(hashPartnerKey(presentedKey), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

const revokedKey = (keyId: string) => `partner-key-revoked:${keyId}`;
const suspendedKey = (partnerId: string) => `partner-suspended:${partnerId}`;

/** The markers' Redis keys, for a reader that checks them together with other keys in one script (the gateway). */
export const partnerMarkerKeys = { revoked: revokedKey, suspended: suspendedKey } as const;

export type PartnerRevocations = ReturnType<typeof createPartnerRevocations>;

export function createPartnerRevocations(redis: Redis) {
  return {
    async revokeKey(keyId: string): Promise<void> {
      await redis.set(revokedKey(keyId), '1', 'EX', REVOKED_MARKER_TTL_SECONDS);
    },
    async suspendPartner(partnerId: string): Promise<void> {
      await redis.set(suspendedKey(partnerId), '1');
    },
    async reactivatePartner(partnerId: string): Promise<void> {
      await redis.del(suspendedKey(partnerId));
    },
    /** True when the key is revoked or its partner suspended. Throws when Redis cannot answer (fail closed). */
    async isRefused(keyId: string, partnerId: string): Promise<boolean> {
      const [revoked, suspended] = await redis.mget(revokedKey(keyId), suspendedKey(partnerId));
      return revoked !== null || suspended !== null;
    },
  };
}
