/**
 * Every Redis key and channel of the conversation subgraph. Keys are relative: the client's keyPrefix
 * (REDIS_KEY_PREFIX) is prepended by ioredis. Per-message keys carry the message id as a hash tag (`{id}`) so that
 * under Redis Cluster a message's stream and generation record live in the same slot.
 */
export const redisKeys = {
  /** Redis Stream of one assistant message's events: entry id `0-<seq>`, fields `d` (delta), `it`/`ot` (usage) or `done`. */
  stream: (messageId: string) => `chat:stream:{${messageId}}`,
  /** Hash describing a running generation: owner, lease expiry, who pays (see generation-registry.ts). */
  generation: (messageId: string) => `chat:gen:{${messageId}}`,
  /** Sorted set of running generations by lease expiry (ms): where the sweeper looks for dead ones. */
  leaseIndex: 'chat:gen-leases',
  /** Sorted set of one user's running generations by lease expiry (ms): the per-user concurrency limit. */
  userGenerations: (tenantId: string, userId: string) => `chat:user-gens:${tenantId}:${userId}`,
  /** Claim on one user's idempotency key while its request runs (see request-claims.ts). */
  requestClaim: (tenantId: string, userId: string, idempotencyKey: string) => `chat:request:${tenantId}:${userId}:${idempotencyKey}`,
  /** A per-process control stream that wakes the shared stream reader (see stream-hub.ts). */
  readerControl: (instanceId: string) => `chat:reader-ctl:${instanceId}`,
} as const;

/** Pub/sub channel carrying stopGeneration requests (message: the assistant message id). */
export const STOP_CHANNEL = 'chat:stop';

/** ioredis does not prefix pub/sub channels; we do, so environments sharing one Redis stay apart. */
export function prefixedChannel(keyPrefix: string | undefined, channel: string): string {
  return `${keyPrefix ?? ''}${channel}`;
}
