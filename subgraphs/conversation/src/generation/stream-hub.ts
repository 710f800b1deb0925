import type { Logger } from '@firefly/logger';
import { createSharedStreamReader, type Redis } from '@firefly/redis';
import { entryId, toStreamEntry } from './message-streams.ts';
import type { StreamHub } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

export interface StreamHubOptions {
  /** The command connection; the hub duplicates it for its one blocking reader. */
  redis: Redis;
  /** This process's id (names its control stream). */
  instanceId: string;
  logger: Logger;
  /** Longest single XREAD BLOCK, ms. Default 30000 (any new subscription wakes it earlier). */
  blockMs?: number;
  /** Entries read per stream per round. Default 1000. */
  batchSize?: number;
}

/**
 * The process's one reader of message streams: @firefly/redis's shared stream reader (one blocking connection for
 * every subscriber, unsubscribing acts at once) over `chat:stream:{id}`, whose entry ids are `0-<seq>`.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const reader = createSharedStreamReader({
    redis: options.redis,
    controlKey: redisKeys.readerControl(options.instanceId),
    connectionName: 'subgraph-conversation-stream-reader',
    logger: options.logger,
    ...(options.blockMs !== undefined ? { blockMs: options.blockMs } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
  });
  return {
    subscribe(messageId, afterSeq, listener) {
      return reader.follow(redisKeys.stream(messageId), entryId(afterSeq), (entries) => listener(entries.map(toStreamEntry)));
    },
    watcherCount: () => reader.watcherCount(),
    close: () => reader.close(),
  };
}
