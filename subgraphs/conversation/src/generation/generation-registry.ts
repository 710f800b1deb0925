import type { Redis } from '@firefly/redis';
import type { GenerationRegistry } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

/**
 * Who runs which generation, in Redis (no schema change needed): the lease that detects a dead process, the
 * per-user concurrency limit and the stop flag.
 *
 * - `chat:gen:{id}` (hash) is the source of truth: `owner` (the process instance or a sweeper that took over),
 *   `exp` (lease expiry, epoch ms), `stop`, and what the sweeper needs to finish the message alone (tenant, user,
 *   model, reservation).
 * - `chat:gen-leases` (sorted set by expiry) only indexes the hashes so the sweeper finds expired ones quickly.
 * - `chat:user-gens:<tenant>:<user>` (sorted set by expiry) holds a user's running generations; members whose lease
 *   expired no longer count, so a crashed process never blocks a user for longer than one lease.
 *
 * Every decision that must not race is one Lua script on one key (so it works under Redis Cluster as well).
 */
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

const HEARTBEAT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'exp', ARGV[2])
if redis.call('HGET', KEYS[1], 'stop') then return 2 end
return 1`;

const TAKEOVER = `
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then return -1 end
if tonumber(exp) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'exp', ARGV[3])
return 1`;

// KEYS[2] is the message's stream (same hash tag, same slot). Its last entry being `done` means the generation was
// finished (the finisher writes the message, then `done`, then removes the record): nothing was lost.
const RESTORE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if last and last[2][1] == 'done' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

const REQUEST_STOP = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'stop', '1')
return 1`;

export interface GenerationRegistryOptions {
  leaseMs: number;
  /** Longest a record may live even if nobody cleans it up (generation timeout plus margins). */
  recordTtlMs: number;
  now?: () => number;
}

export function createGenerationRegistry(redis: Redis, options: GenerationRegistryOptions): GenerationRegistry {
  const now = options.now ?? Date.now;

  return {
    /** Takes one of the user's `max` generation slots; false when all are in use. */
    async acquireSlot(tenantId, userId, messageId, max) {
      const at = now();
      const result = await redis.eval(ACQUIRE_SLOT, 1, redisKeys.userGenerations(tenantId, userId), at, at + options.leaseMs, messageId, max, options.recordTtlMs);
      return result === 1;
    },

    async releaseSlot(tenantId, userId, messageId) {
      await redis.zrem(redisKeys.userGenerations(tenantId, userId), messageId);
    },

    /** Records a generation owned by `owner` with a fresh lease. Written right after the hold, alongside the message rows (see start-generation.ts). */
    async register(record, owner) {
      const exp = now() + options.leaseMs;
      const key = redisKeys.generation(record.messageId);
      // The hash and its index entry are sent together (one round trip on the way to sendMessage's answer, not two):
      // the entry is due only when the lease expires, and an entry whose hash is missing is dropped by the sweep.
      await Promise.all([
        redis.multi().hset(key, { ...record, owner, exp: String(exp) }).pexpire(key, options.recordTtlMs).exec().then(throwFirstError),
        redis.zadd(redisKeys.leaseIndex, exp, record.messageId),
      ]);
    },

    /** Renews the lease while `owner` still holds it; reports a stop request left in the record. */
    async heartbeat(record, owner) {
      const exp = now() + options.leaseMs;
      const result = await redis.eval(HEARTBEAT, 1, redisKeys.generation(record.messageId), owner, exp);
      if (result === 0) return 'lost';
      await Promise.all([
        redis.zadd(redisKeys.leaseIndex, 'XX', exp, record.messageId),
        redis.zadd(redisKeys.userGenerations(record.tenantId, record.userId), 'XX', exp, record.messageId),
      ]);
      return result === 2 ? 'stop-requested' : 'ok';
    },

    /** Ids whose lease expired by the index (the hash decides; see {@link takeover}). */
    async expiredCandidates(limit) {
      return redis.zrangebyscore(redisKeys.leaseIndex, '-inf', now(), 'LIMIT', 0, limit);
    },

    /**
     * Takes over an expired generation for `owner` (a sweeper) with a fresh lease, atomically: of several replicas
     * sweeping at once exactly one gets it, and a generation whose owner renewed in time is left alone.
     */
    async takeover(messageId, owner) {
      const at = now();
      const result = await redis.eval(TAKEOVER, 1, redisKeys.generation(messageId), at, owner, at + options.leaseMs);
      if (result === -1) return 'gone';
      return result === 1 ? 'taken' : 'alive';
    },

    async read(messageId) {
      const hash = await redis.hgetall(redisKeys.generation(messageId));
      if (!hash.tenantId || !hash.userId || !hash.reservationId) return null;
      return {
        messageId,
        tenantId: hash.tenantId,
        userId: hash.userId,
        conversationId: hash.conversationId ?? '',
        modelId: hash.modelId ?? '',
        reservationId: hash.reservationId,
        owner: hash.owner ?? '',
        exp: Number(hash.exp ?? 0),
        stop: hash.stop === '1',
      };
    },

    /**
     * Re-creates the record of a STREAMING message whose record Redis lost (restart without persistence, eviction),
     * owned by nobody, with a lease that expires in one lease time: a still-running owner finds a foreign owner at
     * its next heartbeat and abandons the generation, then the ordinary orphan sweep takes the expired lease over and
     * finishes the message. False when a record exists (its owner, or a sweeper, is on it), and when the stream ends
     * with `done`: the generation finished after the caller read the message as STREAMING (the finisher removes the
     * record only after `done`), so nothing was lost and restoring would hand a finished answer to the sweeper.
     */
    async restore(record) {
      const exp = now() + options.leaseMs;
      const fields = Object.entries({ ...record, owner: 'restored', exp: String(exp) }).flat();
      const keys = [redisKeys.generation(record.messageId), redisKeys.stream(record.messageId)];
      if ((await redis.eval(RESTORE, 2, ...keys, options.recordTtlMs, ...fields)) !== 1) return false;
      await redis.zadd(redisKeys.leaseIndex, exp, record.messageId);
      return true;
    },

    /** Leaves a stop request in the record (read by the owner's next heartbeat); false when no generation runs. */
    async requestStop(messageId) {
      return (await redis.eval(REQUEST_STOP, 1, redisKeys.generation(messageId))) === 1;
    },

    /** Forgets a finished generation: record, index entry and the user's slot. */
    async remove(record) {
      await Promise.all([
        redis.del(redisKeys.generation(record.messageId)),
        redis.zrem(redisKeys.leaseIndex, record.messageId),
        redis.zrem(redisKeys.userGenerations(record.tenantId, record.userId), record.messageId),
      ]);
    },

    /** Drops an index entry whose record is gone (expired or removed between two calls). */
    async dropIndexEntry(messageId) {
      await redis.zrem(redisKeys.leaseIndex, messageId);
    },
  };
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
