import type ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';

/** Apollo's KeyValueCache<string> (as Apollo Server's and its response cache plugin's options take it). */
export type KeyValueCache = NonNullable<NonNullable<Parameters<typeof ApolloServerPluginResponseCache>[0]>['cache']>;

/**
 * Apollo's KeyValueCache on the gateway's ioredis client, under `prefix` (inside the gateway's Redis key prefix), so
 * every replica shares one cache: the response cache and the automatic persisted queries use it. Best effort: when
 * Redis fails, a read is a miss and a write is skipped (logged), never a failed request. An entry without a TTL is not
 * written (nothing here may grow without bound). (Hand-written: Apollo's Keyv adapter would need a Keyv store for
 * ioredis, a larger dependency than these few lines.)
 */
export function redisKeyValueCache(redis: Redis, logger: Logger, prefix: string, what: string): KeyValueCache {
  const warn = (error: unknown, operation: string) => logger.warn({ err: error }, `${what}: Redis ${operation} failed`);
  return {
    async get(key) {
      try {
        return (await redis.get(prefix + key)) ?? undefined;
      } catch (error) {
        warn(error, 'read');
        return undefined;
      }
    },
    async set(key, value, options) {
      const ttl = options?.ttl;
      try {
        if (ttl) await redis.set(prefix + key, value, 'EX', Math.max(1, Math.ceil(ttl)));
      } catch (error) {
        warn(error, 'write');
      }
    },
    async delete(key) {
      try {
        await redis.del(prefix + key);
      } catch (error) {
        warn(error, 'delete');
      }
    },
  };
}
