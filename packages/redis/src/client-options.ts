import type { RedisOptions } from 'ioredis';

/**
 * Options for a `duplicate()` of a request-path client that blocks (XREAD BLOCK, SUBSCRIBE): no command timeout, no
 * retry limit, commands queued while reconnecting — it waits for Redis to come back instead of failing.
 */
export const BLOCKING_CLIENT_OPTIONS = { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined } satisfies RedisOptions;
