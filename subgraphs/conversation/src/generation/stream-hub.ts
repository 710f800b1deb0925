import type { Logger } from '@firefly/logger';
import { createSharedStreamReader, type Redis, type SharedStreamReader } from '@firefly/redis';
import { entryId, toStreamEntry } from './message-streams.ts';
import type { StreamHub } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

export interface StreamHubOptions {
  /** The command connection; the hub duplicates it for its blocking readers. */
  redis: Redis;
  /** This process's id (names its control streams). */
  instanceId: string;
  logger: Logger;
  /** Longest single XREAD BLOCK, ms. Default 30000 (any new subscription wakes it earlier). */
  blockMs?: number;
  /** Entries read per stream per round. Default 1000. */
  batchSize?: number;
  /** Most message streams one blocking reader follows; more open a further reader. Default 50. */
  streamsPerReader?: number;
}

interface Shard {
  reader: SharedStreamReader;
  /** Stream key → subscriptions on it through this reader. */
  keys: Map<string, number>;
}

/**
 * The process's readers of message streams: @firefly/redis's shared stream reader (one blocking connection for many
 * subscribers, unsubscribing acts at once) over `chat:stream:{id}`, whose entry ids are `0-<seq>`.
 *
 * Sharded: one reader names every stream it follows in each `XREAD`, so its cost per round grows with the number of
 * open streams, and while tokens keep coming it runs round after round. With one reader for 2,000 open answers every
 * token paid for a 2,000-key XREAD (and Redis for scanning them): the process spent its CPU re-reading and started
 * answers too late. Each reader here follows at most `streamsPerReader` streams; a stream stays on its reader while
 * anyone follows it, so its subscribers keep the reader's ordering guarantee. Readers are opened as needed and
 * kept (an idle reader sends nothing to Redis), so the connections are bounded by the peak of open streams.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const perReader = options.streamsPerReader ?? 50;
  const shards: Shard[] = [];
  const shardOf = new Map<string, Shard>();

  function openShard(): Shard {
    const index = shards.length;
    const shard: Shard = {
      reader: createSharedStreamReader({
        redis: options.redis,
        controlKey: redisKeys.readerControl(index === 0 ? options.instanceId : `${options.instanceId}:${index}`),
        connectionName: 'subgraph-conversation-stream-reader',
        logger: options.logger,
        ...(options.blockMs !== undefined ? { blockMs: options.blockMs } : {}),
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      }),
      keys: new Map(),
    };
    shards.push(shard);
    return shard;
  }

  function shardFor(key: string): Shard {
    const existing = shardOf.get(key);
    if (existing) return existing;
    let chosen: Shard | undefined;
    for (const shard of shards) if (shard.keys.size < perReader && (!chosen || shard.keys.size < chosen.keys.size)) chosen = shard;
    chosen ??= openShard();
    shardOf.set(key, chosen);
    return chosen;
  }

  return {
    subscribe(messageId, afterSeq, listener) {
      const key = redisKeys.stream(messageId);
      const shard = shardFor(key);
      shard.keys.set(key, (shard.keys.get(key) ?? 0) + 1);
      let stop: () => void;
      try {
        stop = shard.reader.follow(key, entryId(afterSeq), (entries) => listener(entries.map(toStreamEntry)));
      } catch (error) {
        release(shard, key);
        throw error;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        stop();
        release(shard, key);
      };
    },
    watcherCount: () => shards.reduce((count, shard) => count + shard.reader.watcherCount(), 0),
    async close() {
      await Promise.all(shards.map((shard) => shard.reader.close()));
    },
  };

  function release(shard: Shard, key: string): void {
    const left = (shard.keys.get(key) ?? 1) - 1;
    if (left > 0) {
      shard.keys.set(key, left);
      return;
    }
    shard.keys.delete(key);
    shardOf.delete(key);
  }
}
