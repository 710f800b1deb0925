import { subscribeToSessionRevocations, type SessionRevokedEvent } from '@firefly/auth/sessions';
import type { Logger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';

/** Starts listening for session revocations; `close()` stops. */
export type RevocationFeed = (onRevoked: (event: SessionRevokedEvent) => void) => Promise<{ close(): Promise<void> }>;

/**
 * The identity layer's revocation channel (`<REDIS_KEY_PREFIX>session-revoked`, published by the session store on
 * logout, revokeSession, suspension, password change and refresh-token reuse), on a dedicated connection: a
 * subscribed ioredis client can run nothing else. Pub/sub is at-most-once (a message published while this
 * connection is down is lost), so the periodic session re-check stays as the backstop.
 */
export function createRedisRevocationFeed(options: { url: string; keyPrefix: string; logger: Logger }): RevocationFeed {
  return async (onRevoked) => {
    // maxRetriesPerRequest null: SUBSCRIBE waits for Redis to come back instead of failing; ioredis resubscribes
    // on every reconnect by itself.
    const subscriber = createRedis({ url: options.url, keyPrefix: options.keyPrefix, name: 'gateway-revocations', logger: options.logger, maxRetriesPerRequest: null });
    try {
      const subscription = await subscribeToSessionRevocations(subscriber, onRevoked);
      return {
        async close() {
          await subscription.close();
          await closeRedis(subscriber);
        },
      };
    } catch (error) {
      await closeRedis(subscriber);
      throw error;
    }
  };
}
