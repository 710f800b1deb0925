import type { RedisOptions } from 'ioredis';

/**
 * Options for a `duplicate()` of a request-path client that blocks (XREAD BLOCK, SUBSCRIBE): no command timeout, no
 * retry limit, commands queued while reconnecting — it waits for Redis to come back instead of failing.
 */
export const BLOCKING_CLIENT_OPTIONS = { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined } satisfies RedisOptions;

/**
 * Options for a `duplicate()` of a request-path client used by background writers that must not lose a write to a
 * short Redis blip (a chat answer's token stream: a lost delta is a gap every subscriber sees): commands wait while
 * the client reconnects, and fail after 3 reconnection attempts (a few seconds), as ioredis does by default.
 */
export const QUEUEING_CLIENT_OPTIONS = { maxRetriesPerRequest: 3, enableOfflineQueue: true, commandTimeout: undefined } satisfies RedisOptions;
