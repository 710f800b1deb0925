import type { Logger } from '@firefly/logger';
import type { Redis } from 'ioredis';
import { BLOCKING_CLIENT_OPTIONS } from './client-options.ts';

/** One Redis Stream entry as XREAD returns it: its id and its fields as a map. */
export interface RawStreamEntry {
  id: string;
  fields: Map<string, string>;
}

export type RawStreamListener = (entries: RawStreamEntry[]) => void;

export interface SharedStreamReaderOptions {
  /** The command connection; the reader duplicates it for its one blocking connection. */
  redis: Redis;
  /** A stream of this process alone (relative to the keyPrefix) whose entries wake the blocked reader. */
  controlKey: string;
  /** Connection name of the blocking connection (CLIENT LIST). */
  connectionName: string;
  logger: Logger;
  /** Longest single XREAD BLOCK, ms. Default 30000 (any new watcher wakes it earlier). */
  blockMs?: number;
  /** Entries read per stream per round. Default 1000. */
  batchSize?: number;
}

export interface SharedStreamReader {
  /**
   * Follows a stream (key relative to the keyPrefix) from `afterId` (exclusive; `0-0` for the whole stream): the
   * backlog first, then live entries, in order, never twice and without gaps. Returns the unsubscribe function,
   * which acts at once (a local map update; no Redis round trip).
   */
  follow(key: string, afterId: string, listener: RawStreamListener): () => void;
  /** Watchers currently registered. */
  watcherCount(): number;
  close(): Promise<void>;
}

interface Watcher {
  cursor: string;
  listener: RawStreamListener;
}

/** Compares two stream ids (`<ms>-<seq>`) as Redis orders them. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Parses XRANGE / XREAD entries (`[id, [field, value, …]]`). */
export function parseStreamEntries(raw: readonly [string, string[]][]): RawStreamEntry[] {
  return raw.map(([id, list]) => {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < list.length; i += 2) fields.set(list[i]!, list[i + 1]!);
    return { id, fields };
  });
}

/**
 * One shared reader of Redis Streams per process, instead of one blocking Redis connection per subscription
 * (used by the conversation subgraph's token streams and the image subgraph's job progress).
 *
 * Why shared: a dedicated `XREAD BLOCK` connection per subscriber costs a TCP connection (and Redis `maxclients`
 * headroom) per open stream and a handshake per subscribe; this reader holds exactly one blocking connection whatever
 * the number of subscribers, and unsubscribing is a local map update — it acts at once and never waits on Redis,
 * which is what the subscription teardown chain needs (docs/architecture.md, "Subscriptions through the gateway").
 *
 * How: the reader loops on `XREAD BLOCK` over every watched stream (from the lowest cursor of its watchers) plus the
 * control stream. Subscribing adds the watcher locally, then XADDs to the control stream: the blocked XREAD returns
 * at once, and if the XADD lands before the XREAD was even sent, that XREAD sees the newer control entry and returns
 * immediately anyway — no race, no client ids, no CLIENT UNBLOCK. A reply is a contiguous run of entries after the
 * id it was read from, so a watcher whose cursor is at or above that id gets every entry above its cursor; one that
 * joined below it while the XREAD was in flight waits for the next round, which reads from its cursor. Under Redis
 * Cluster one XREAD can only name keys of one slot; run one reader per node there (not needed for a single Redis or
 * Sentinel).
 */
export function createSharedStreamReader(options: SharedStreamReaderOptions): SharedStreamReader {
  const { redis, logger, controlKey } = options;
  const blockMs = options.blockMs ?? 30_000;
  const batchSize = options.batchSize ?? 1_000;
  const keyPrefix = redis.options.keyPrefix ?? '';
  const reader = redis.duplicate({ ...BLOCKING_CLIENT_OPTIONS, enableAutoPipelining: false, connectionName: options.connectionName });
  const watchers = new Map<string, Set<Watcher>>();
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

  function minCursor(set: Set<Watcher>): string {
    let min: string | null = null;
    for (const watcher of set) if (min === null || compareStreamIds(watcher.cursor, min) < 0) min = watcher.cursor;
    return min ?? '0-0';
  }

  function dispatch(key: string, readFrom: string, entries: RawStreamEntry[]): void {
    const set = watchers.get(key);
    if (!set) return;
    for (const watcher of [...set]) {
      // Joined below the id this reply was read from: the entries in between are not here; the next round has them.
      if (compareStreamIds(watcher.cursor, readFrom) < 0) continue;
      const fresh = entries.filter((entry) => compareStreamIds(entry.id, watcher.cursor) > 0);
      if (fresh.length === 0) continue;
      watcher.cursor = fresh.at(-1)!.id;
      try {
        watcher.listener(fresh);
      } catch (error) {
        logger.error({ err: error, key }, 'a stream listener threw');
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
      const keys = [...watchers.keys()];
      const readFrom = new Map(keys.map((key) => [key, minCursor(watchers.get(key)!)]));
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread('COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', controlKey, ...keys, controlCursor, ...keys.map((key) => readFrom.get(key)!))) as typeof reply;
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
        const from = readFrom.get(key);
        if (from !== undefined) dispatch(key, from, parseStreamEntries(entries));
      }
    }
  }

  const loop = run().catch((error: unknown) => logger.error({ err: error }, 'stream reader stopped unexpectedly'));

  return {
    follow(key, afterId, listener) {
      if (closed) throw new Error('the stream reader is closed');
      const watcher: Watcher = { cursor: afterId, listener };
      let set = watchers.get(key);
      if (!set) {
        set = new Set();
        watchers.set(key, set);
      }
      set.add(watcher);
      wake();
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = watchers.get(key);
        current?.delete(watcher);
        if (current && current.size === 0) watchers.delete(key);
      };
    },
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
