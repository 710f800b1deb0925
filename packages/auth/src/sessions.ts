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

/** ioredis prefixes keys but not pub/sub channels, so the channel carries the prefix explicitly. */
export function sessionRevokedChannel(redis: Redis): string {
  return `${redis.options.keyPrefix ?? ''}${SESSION_REVOKED_CHANNEL}`;
}

export type SessionStore = ReturnType<typeof createSessionStore>;

export function createSessionStore(redis: Redis) {
  const channel = sessionRevokedChannel(redis);

  async function publish(events: SessionRevokedEvent[]): Promise<void> {
    for (const event of events) await redis.publish(channel, JSON.stringify(event));
  }

  const store = {
    async save(session: LiveSession): Promise<void> {
      await redis
        .multi()
        .set(sessionKey(session.sessionId), JSON.stringify(session), 'PXAT', session.expiresAt)
        .sadd(userSetKey(session.tenantId, session.userId), session.sessionId)
        .pexpireat(userSetKey(session.tenantId, session.userId), session.expiresAt, 'GT')
        .exec();
      // PEXPIREAT … GT does not set a TTL on a key that has none yet (a fresh set): give it one.
      await redis.pexpireat(userSetKey(session.tenantId, session.userId), session.expiresAt, 'NX');
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

    async revoke(session: { sessionId: string; userId: string; tenantId: string }, reason: SessionRevokeReason): Promise<void> {
      await redis.multi().del(sessionKey(session.sessionId)).srem(userSetKey(session.tenantId, session.userId), session.sessionId).exec();
      await publish([{ ...session, reason }]);
    },

    /** Revokes every live session of a user, except `except` (the caller's own, on a password change). */
    async revokeAll(tenantId: string, userId: string, reason: SessionRevokeReason, options: { except?: string } = {}): Promise<string[]> {
      const ids = (await redis.smembers(userSetKey(tenantId, userId))).filter((id) => id !== options.except);
      if (ids.length === 0) return [];
      await redis
        .multi()
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
