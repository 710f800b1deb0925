import type { Redis } from '@firefly/redis';
import type { ManifestOperation } from './manifest.ts';

/**
 * How published lists reach every gateway replica (docs/partners.md, "Publishing a list"). MySQL holds the lists;
 * the user subgraph copies each one, after it committed, into Redis — hash `persisted-query-lists` (partner id → the
 * list as JSON) and `persisted-query-lists:versions` (partner id → version) — then announces it on the channel. A
 * gateway loads the whole hash on start, re-reads a partner's list when the channel names it, and compares the
 * versions hash every few seconds as a backstop for a message it missed (a reconnect, a Redis restart).
 */
const LISTS_KEY = 'persisted-query-lists';
const VERSIONS_KEY = 'persisted-query-lists:versions';
const CHANNEL = 'persisted-query-lists:published';

/** A partner's published list as the gateways hold it. */
export interface PublishedList {
  tenantId: string;
  partnerId: string;
  version: number;
  /** ISO 8601. */
  publishedAt: string;
  operations: ManifestOperation[];
}

/** ioredis prefixes keys but not pub/sub channels, so the channel carries the prefix explicitly. */
function channelOf(redis: Redis): string {
  return `${redis.options.keyPrefix ?? ''}${CHANNEL}`;
}

// Writes the list only when Redis holds an older version (or none): copies made out of order — a publish racing the
// start-up sync of another replica — never put an old list back.
const WRITE_IF_NEWER = `
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`;

/**
 * Copies a list into Redis unless Redis already holds this version or a newer one, and announces it to every
 * gateway. Returns whether it was written.
 */
export async function shareList(redis: Redis, list: PublishedList): Promise<boolean> {
  const written = (await redis.eval(WRITE_IF_NEWER, 2, LISTS_KEY, VERSIONS_KEY, list.partnerId, String(list.version), JSON.stringify(list))) === 1;
  if (written) await redis.publish(channelOf(redis), JSON.stringify({ partnerId: list.partnerId, version: list.version }));
  return written;
}

/** Version of every list Redis holds, by partner id. */
export async function sharedVersions(redis: Redis): Promise<Map<string, number>> {
  const raw = await redis.hgetall(VERSIONS_KEY);
  return new Map(Object.entries(raw).map(([partnerId, version]) => [partnerId, Number(version)]));
}

/** Version of one partner's list in Redis (0: none). */
export async function sharedVersion(redis: Redis, partnerId: string): Promise<number> {
  return Number((await redis.hget(VERSIONS_KEY, partnerId)) ?? 0);
}

/** The lists Redis holds: every one, or those of `partnerIds`. Entries that do not read as a list are left out. */
export async function readSharedLists(redis: Redis, partnerIds?: readonly string[]): Promise<PublishedList[]> {
  let values: Array<string | null>;
  if (partnerIds === undefined) values = Object.values(await redis.hgetall(LISTS_KEY));
  else if (partnerIds.length === 0) return [];
  else values = await redis.hmget(LISTS_KEY, ...partnerIds);
  return values.flatMap((value) => {
    const list = value === null ? undefined : parseList(value);
    return list ? [list] : [];
  });
}

/**
 * Calls `onPublished(partnerId, version)` for every list announced on the channel, on a connection of its own
 * (`subscriber`: a client in subscriber mode can run nothing else).
 */
export async function subscribeToPublishedLists(subscriber: Redis, onPublished: (partnerId: string, version: number) => void): Promise<{ close(): Promise<void> }> {
  const channel = channelOf(subscriber);
  const listener = (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const event = JSON.parse(message) as { partnerId?: unknown; version?: unknown };
      if (typeof event.partnerId === 'string' && typeof event.version === 'number') onPublished(event.partnerId, event.version);
    } catch {
      // A malformed message names no list; the periodic version check catches up on anything missed.
    }
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off('message', listener);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}

function parseList(raw: string): PublishedList | undefined {
  try {
    const value = JSON.parse(raw) as Partial<PublishedList>;
    if (typeof value.partnerId !== 'string' || typeof value.tenantId !== 'string' || typeof value.version !== 'number' || !Array.isArray(value.operations)) return undefined;
    return value as PublishedList;
  } catch {
    return undefined;
  }
}
