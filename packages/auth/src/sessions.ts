import type { Redis } from 'ioredis';
import { ROLES, type Role } from './identity.ts';

/**
 * The hot, shared record of which sessions are live. MySQL keeps the durable list a user sees (mySessions); this
 * store is what every gateway replica checks on every request, so that logout, revokeSession, suspension and a
 * password change take effect on the very next request, whichever replica serves it.
 *
 * Keys (under the client's keyPrefix):
 *   session:<sessionId>                 JSON LiveSession, expiring with the session (PXAT)
 *   user-sessions:<tenantId>:<userId>   SET of that user's session ids (for "sign out everywhere")
 *   session-revoked:<sessionId>         revocation marker (the reason), kept for `revocationTtlMs`
 *
 * A revocation sticks: `revoke`/`revokeAll` write the marker in the same MULTI that deletes the record, and `save`
 * is one Lua script that refuses to write a session with a marker. So a refresh that rotated its token just before
 * a concurrent revocation cannot put the record back afterwards (issue 10): its save returns false.
 * Channel `<keyPrefix>session-revoked` carries a SessionRevokedEvent for every revocation, so long-lived
 * connections (graphql-ws) can close the sockets of a revoked session without polling.
 */
export interface LiveSession {
  sessionId: string;
  userId: string;
  tenantId: string;
  /** The user's current roles; updated in place by setUserRoles, so role changes apply on the next request too. */
  roles: Role[];
  /** Epoch milliseconds after which the session (and its refresh token) is dead. */
  expiresAt: number;
}

export type SessionRevokeReason = 'logout' | 'revoked' | 'suspended' | 'password-changed' | 'refresh-token-reuse';

export interface SessionRevokedEvent {
  sessionId: string;
  userId: string;
  tenantId: string;
  reason: SessionRevokeReason;
}

export const SESSION_REVOKED_CHANNEL = 'session-revoked';

const sessionKey = (sessionId: string) => `session:${sessionId}`;
const userSetKey = (tenantId: string, userId: string) => `user-sessions:${tenantId}:${userId}`;
const revokedKey = (sessionId: string) => `session-revoked:${sessionId}`;

/** How long a revocation marker outlives the revocation by default: the longest a session can live (30 days). */
const DEFAULT_REVOCATION_TTL_MS = 30 * 86_400_000;

/**
 * KEYS: revocation marker, session record, the user's set. ARGV: record JSON, expiresAt (epoch ms), session id.
 * Returns 0 (nothing written) when the session was revoked, else 1. PEXPIREAT … GT does not set a TTL on a key
 * that has none yet (a fresh set), hence the NX one after it.
 */
const SAVE_UNLESS_REVOKED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('PEXPIREAT', KEYS[3], ARGV[2], 'GT')
redis.call('PEXPIREAT', KEYS[3], ARGV[2], 'NX')
return 1
`;

/** Options of {@link createSessionStore}. */
interface SessionStoreOptions {
  /** How long a revocation marker is kept: at least the longest refresh-token lifetime. Default 30 days. */
  revocationTtlMs?: number;
}

/** ioredis prefixes keys but not pub/sub channels, so the channel carries the prefix explicitly. */
export function sessionRevokedChannel(redis: Redis): string {
  return `${redis.options.keyPrefix ?? ''}${SESSION_REVOKED_CHANNEL}`;
}

export type SessionStore = ReturnType<typeof createSessionStore>;

export function createSessionStore(redis: Redis, options: SessionStoreOptions = {}) {
  const channel = sessionRevokedChannel(redis);
  const revocationTtlMs = options.revocationTtlMs ?? DEFAULT_REVOCATION_TTL_MS;

  async function publish(events: SessionRevokedEvent[]): Promise<void> {
    for (const event of events) await redis.publish(channel, JSON.stringify(event));
  }

  const store = {
    /**
     * Writes (or rewrites) the live record, atomically unless the session was revoked: then nothing is written and
     * the answer is false. Callers must treat false as "signed out".
     */
    async save(session: LiveSession): Promise<boolean> {
      const written = await redis.eval(
        SAVE_UNLESS_REVOKED,
        3,
        revokedKey(session.sessionId),
        sessionKey(session.sessionId),
        userSetKey(session.tenantId, session.userId),
        JSON.stringify(session),
        String(session.expiresAt),
        session.sessionId,
      );
      return written === 1;
    },

    async get(sessionId: string): Promise<LiveSession | null> {
      const raw = await redis.get(sessionKey(sessionId));
      if (!raw) return null;
      const parsed = parseLiveSession(raw);
      if (!parsed || parsed.expiresAt <= Date.now()) return null;
      return parsed;
    },

    /**
     * True while the session exists and belongs to `expected` (when given). The one check every authenticated
     * request and every open graphql-ws connection relies on (see also {@link subscribeToSessionRevocations}).
     */
    async isSessionLive(sessionId: string, expected?: { userId: string; tenantId: string }): Promise<boolean> {
      const session = await store.get(sessionId);
      if (!session) return false;
      return !expected || (session.userId === expected.userId && session.tenantId === expected.tenantId);
    },

    /** Revokes one session for good: no later {@link save} can bring it back. */
    async revoke(session: { sessionId: string; userId: string; tenantId: string }, reason: SessionRevokeReason): Promise<void> {
      await redis
        .multi()
        .set(revokedKey(session.sessionId), reason, 'PX', revocationTtlMs)
        .del(sessionKey(session.sessionId))
        .srem(userSetKey(session.tenantId, session.userId), session.sessionId)
        .exec();
      await publish([{ ...session, reason }]);
    },

    /**
     * Revokes every live session of a user, except `except` (the caller's own, on a password change), for good.
     * `ids` adds sessions the caller knows of (MySQL's list) that may have no live record at this instant, e.g. one
     * whose refresh is between its MySQL rotation and its save: the marker keeps that save from reviving it.
     */
    async revokeAll(tenantId: string, userId: string, reason: SessionRevokeReason, options: { except?: string; ids?: readonly string[] } = {}): Promise<string[]> {
      const live = await redis.smembers(userSetKey(tenantId, userId));
      const ids = [...new Set([...live, ...(options.ids ?? [])])].filter((id) => id !== options.except);
      if (ids.length === 0) return [];
      const multi = redis.multi();
      for (const id of ids) multi.set(revokedKey(id), reason, 'PX', revocationTtlMs);
      await multi
        .del(...ids.map(sessionKey))
        .srem(userSetKey(tenantId, userId), ...ids)
        .exec();
      await publish(ids.map((sessionId) => ({ sessionId, userId, tenantId, reason })));
      return ids;
    },

    /** Rewrites the roles of the user's live sessions. `XX` never resurrects a session revoked meanwhile. */
    async setRoles(tenantId: string, userId: string, roles: Role[]): Promise<void> {
      for (const id of await redis.smembers(userSetKey(tenantId, userId))) {
        const current = await store.get(id);
        if (!current) continue;
        await redis.set(sessionKey(id), JSON.stringify({ ...current, roles }), 'PXAT', current.expiresAt, 'XX');
      }
    },
  };
  return store;
}

/**
 * Listens for revocations on a dedicated connection (a subscribed ioredis client can run nothing else). The
 * graphql-ws server uses it to close the sockets of a revoked session at once; `close()` unsubscribes.
 */
export async function subscribeToSessionRevocations(
  subscriber: Redis,
  onRevoked: (event: SessionRevokedEvent) => void,
): Promise<{ close(): Promise<void> }> {
  const channel = sessionRevokedChannel(subscriber);
  const listener = (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const event = JSON.parse(message) as SessionRevokedEvent;
      if (typeof event.sessionId === 'string') onRevoked(event);
    } catch {
      // A malformed message cannot name a session; ignore it rather than crash the listener.
    }
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off('message', listener);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}

function parseLiveSession(raw: string): LiveSession | null {
  try {
    const value = JSON.parse(raw) as Partial<LiveSession>;
    if (typeof value.sessionId !== 'string' || typeof value.userId !== 'string' || typeof value.tenantId !== 'string' || typeof value.expiresAt !== 'number') {
      return null;
    }
    const roles = Array.isArray(value.roles) ? value.roles.filter((r): r is Role => ROLES.includes(r)) : [];
    return { sessionId: value.sessionId, userId: value.userId, tenantId: value.tenantId, roles, expiresAt: value.expiresAt };
  } catch {
    return null;
  }
}
