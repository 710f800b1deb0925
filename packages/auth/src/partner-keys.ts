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
 *   partner-suspended:<partnerId>     when the suspension was written (ms; older markers hold '1'), while the partner is SUSPENDED
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
    /** The marker holds when it was written (ms), so a reconciliation can tell it from a later reactivation. */
    async suspendPartner(partnerId: string, at = Date.now()): Promise<void> {
      await redis.set(suspendedKey(partnerId), String(at));
    },
    async reactivatePartner(partnerId: string): Promise<void> {
      await redis.del(suspendedKey(partnerId));
    },
    /** True when the key is revoked or its partner suspended. Throws when Redis cannot answer (fail closed). */
    async isRefused(keyId: string, partnerId: string): Promise<boolean> {
      const [revoked, suspended] = await redis.mget(revokedKey(keyId), suspendedKey(partnerId));
      return revoked !== null || suspended !== null;
    },
    /**
     * Brings the markers in line with MySQL (the user subgraph's reconciliation job): writes the missing markers of
     * the keys revoked within the markers' lifetime and of the suspended partners (a Redis that lost its data), and
     * removes the suspension marker of an active partner when the partner row changed after the marker was written
     * (a reactivation whose marker removal failed). A marker newer than its ACTIVE row is a suspension in progress
     * (marker first, then the row) and stays. Returns how many markers it wrote and removed.
     */
    async reconcile(state: {
      revokedKeys: ReadonlyArray<{ id: string; revokedAt: Date }>;
      partners: ReadonlyArray<{ id: string; status: 'ACTIVE' | 'SUSPENDED'; updatedAt: Date }>;
    }): Promise<{ written: number; removed: number }> {
      let written = 0;
      let removed = 0;
      const now = Date.now();
      const revokedWrites = redis.pipeline();
      const live = state.revokedKeys.filter((key) => now - key.revokedAt.getTime() < REVOKED_MARKER_TTL_SECONDS * 1000);
      for (const key of live) revokedWrites.set(revokedKey(key.id), '1', 'EX', REVOKED_MARKER_TTL_SECONDS - Math.floor((now - key.revokedAt.getTime()) / 1000), 'NX');
      if (live.length > 0) for (const [error, result] of (await revokedWrites.exec()) ?? []) {
        if (error) throw error;
        if (result === 'OK') written++;
      }
      if (state.partners.length === 0) return { written, removed };
      const markers = await redis.mget(...state.partners.map((partner) => suspendedKey(partner.id)));
      for (const [index, partner] of state.partners.entries()) {
        const marker = markers[index] ?? null;
        if (partner.status === 'SUSPENDED' && marker === null) {
          if ((await redis.set(suspendedKey(partner.id), String(partner.updatedAt.getTime()), 'NX')) === 'OK') written++;
        } else if (partner.status === 'ACTIVE' && marker !== null && partner.updatedAt.getTime() > Number(marker)) {
          // Only the marker read above: a suspension written since (a new timestamp) is not removed.
          const gone = await redis.eval(DELETE_IF_UNCHANGED, 1, suspendedKey(partner.id), marker);
          if (gone === 1) removed++;
        }
      }
      return { written, removed };
    },
  };
}

const DELETE_IF_UNCHANGED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
