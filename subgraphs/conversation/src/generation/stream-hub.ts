import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { entryId, parseEntries } from './message-streams.ts';
import type { StreamEntry, StreamHub, StreamListener } from './ports.ts';
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

interface Watcher {
  cursor: number;
  listener: StreamListener;
}

/**
 * One shared reader of message streams per process, instead of one blocking Redis connection per subscription.
 *
 * Why shared: a dedicated `XREAD BLOCK` connection per subscriber costs a TCP connection (and Redis `maxclients`
 * headroom) per open chat stream and a connection handshake per subscribe; this hub holds exactly one blocking
 * connection whatever the number of subscribers, and unsubscribing is a local map update — it acts at once and
 * never waits on Redis, which is what the teardown chain needs (docs/architecture.md, "Subscriptions through the gateway").
 *
 * How: the reader loops on `XREAD BLOCK` over every watched stream (from the lowest cursor of its watchers; each
 * watcher gets only the entries above its own cursor) plus a control stream of its own. Subscribing adds the
 * watcher locally, then XADDs to the control stream: the blocked XREAD returns at once, and if the XADD lands
 * before the XREAD was even sent, that XREAD sees the newer control entry and returns immediately anyway — no race,
 * no client ids, no CLIENT UNBLOCK. Under Redis Cluster one XREAD can only name keys of one slot; run one hub per
 * node there (not needed for a single Redis or Sentinel).
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const { redis, logger } = options;
  const blockMs = options.blockMs ?? 30_000;
  const batchSize = options.batchSize ?? 1_000;
  const keyPrefix = redis.options.keyPrefix ?? '';
  const reader = redis.duplicate({ maxRetriesPerRequest: null, enableAutoPipelining: false, connectionName: 'subgraph-conversation-stream-reader' });
  reader.on('error', () => undefined);
  const controlKey = redisKeys.readerControl(options.instanceId);
  const watchers = new Map<string, Set<Watcher>>();
  const streamKeyToMessage = new Map<string, string>();
  let controlCursor = '0-0';
  let closed = false;
  let wakeIdle: (() => void) | null = null;
  let lastErrorLog = 0;

  function wake(): void {
    if (wakeIdle) {
      const resolve = wakeIdle;
      wakeIdle = null;
      resolve();
      return;
    }
    redis
      .multi()
      .xadd(controlKey, 'MAXLEN', '~', 100, '*', 'w', '1')
      .expire(controlKey, 3_600)
      .exec()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not wake the stream reader'));
  }

  function minCursor(set: Set<Watcher>): number {
    let min = Number.POSITIVE_INFINITY;
    for (const watcher of set) min = Math.min(min, watcher.cursor);
    return min;
  }

  function dispatch(messageId: string, entries: StreamEntry[]): void {
    const set = watchers.get(messageId);
    if (!set) return;
    for (const watcher of [...set]) {
      const fresh = entries.filter((entry) => entry.seq > watcher.cursor);
      // A reply read from a cursor above this watcher's (it joined while the XREAD was in flight) would leave a gap:
      // skip it; the next round reads from the lowest cursor, this watcher's included.
      if (fresh.length === 0 || fresh[0]!.seq !== watcher.cursor + 1) continue;
      watcher.cursor = fresh.at(-1)!.seq;
      try {
        watcher.listener(fresh);
      } catch (error) {
        logger.error({ err: error, messageId }, 'a stream listener threw');
      }
    }
  }

  async function run(): Promise<void> {
    while (!closed) {
      if (watchers.size === 0) {
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
        });
        continue;
      }
      const messageIds = [...watchers.keys()];
      const keys = [controlKey, ...messageIds.map((id) => redisKeys.stream(id))];
      const cursors = [controlCursor, ...messageIds.map((id) => entryId(minCursor(watchers.get(id)!)))];
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread('COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ...keys, ...cursors)) as typeof reply;
      } catch (error) {
        if (closed) break;
        const now = Date.now();
        if (now - lastErrorLog > 5_000) {
          lastErrorLog = now;
          logger.warn({ err: error }, 'stream reader: XREAD failed; retrying');
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      for (const [fullKey, entries] of reply ?? []) {
        const key = fullKey.startsWith(keyPrefix) ? fullKey.slice(keyPrefix.length) : fullKey;
        if (key === controlKey) {
          controlCursor = entries.at(-1)?.[0] ?? controlCursor;
          continue;
        }
        const messageId = streamKeyToMessage.get(key);
        if (messageId) dispatch(messageId, parseEntries(entries));
      }
    }
  }

  const loop = run().catch((error: unknown) => logger.error({ err: error }, 'stream reader stopped unexpectedly'));

  return {
    /**
     * Follows a message's stream from `afterSeq` (exclusive): the backlog first, then live entries. Returns the
     * unsubscribe function, which acts immediately.
     */
    subscribe(messageId, afterSeq, listener) {
      if (closed) throw new Error('the stream hub is closed');
      const watcher: Watcher = { cursor: afterSeq, listener };
      let set = watchers.get(messageId);
      if (!set) {
        set = new Set();
        watchers.set(messageId, set);
        streamKeyToMessage.set(redisKeys.stream(messageId), messageId);
      }
      set.add(watcher);
      wake();
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = watchers.get(messageId);
        current?.delete(watcher);
        if (current && current.size === 0) {
          watchers.delete(messageId);
          streamKeyToMessage.delete(redisKeys.stream(messageId));
        }
      };
    },
    /** Watchers currently registered (one per open subscription). */
    watcherCount() {
      let count = 0;
      for (const set of watchers.values()) count += set.size;
      return count;
    },
    async close() {
      if (closed) return;
      closed = true;
      watchers.clear();
      wakeIdle?.();
      // Ends a blocked XREAD at once (it rejects; the loop sees `closed`).
      reader.disconnect();
      await loop;
      await redis.del(controlKey).catch(() => undefined);
    },
  };
}
