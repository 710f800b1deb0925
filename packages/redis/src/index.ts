import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@firefly/logger';

export { Redis };
export { BLOCKING_CLIENT_OPTIONS, QUEUEING_CLIENT_OPTIONS } from './client-options.ts';

export interface CreateRedisOptions {
  url: string;
  /** Prepended to every key this client touches (isolates environments and test runs). Default none. */
  keyPrefix?: string;
  /** Connection name shown in `CLIENT LIST`, e.g. `subgraph-user`. */
  name: string;
  logger?: Logger;
  /**
   * `null` for blocking clients (BullMQ workers, stream readers, subscribers), which must wait for Redis to come back
   * rather than fail their commands. Default: a request-path client that fails fast (see {@link createRedis}).
   */
  maxRetriesPerRequest?: number | null;
  /** Request-path clients only: a command without an answer this long fails ("Command timed out"). Default 2000. */
  commandTimeoutMs?: number;
}

/** Request-path clients: how long one connection attempt may take before ioredis gives up on it and retries. */
const CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;


/**
 * A Redis client with logged (never thrown) connection errors, its duplicates' too (see logConnectionErrors).
 * Sentinel or Cluster URLs can be added here without touching callers.
 *
 * A request-path client (the default) fails fast while Redis is unreachable, so a request answers
 * UPSTREAM_UNAVAILABLE (service `redis`, see {@link isRedisUnavailableError}) at once instead of hanging: once it has
 * been connected, commands are no longer queued while it reconnects (they fail at once), a command without an
 * answer fails after `commandTimeoutMs` (a Redis that stopped answering without closing the connection), a command
 * in flight when the connection dropped is retried on one reconnection only. Before the first connection, commands
 * wait for it (a process's first requests do not fail because it just started). ioredis keeps reconnecting (at most
 * every 2 s), so everything recovers by itself when Redis is back.
 */
export function createRedis(options: CreateRedisOptions): Redis {
  const blocking = options.maxRetriesPerRequest === null;
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 1 : options.maxRetriesPerRequest,
    enableAutoPipelining: true,
    ...(blocking ? {} : { commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS }),
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
  };
  const client = new Redis(options.url, redisOptions);
  if (!blocking) {
    // ioredis reads this option on every command: from the first `ready` on, a command sent while the connection is
    // down fails at once rather than waiting in the offline queue (and being replayed long after its request gave up).
    client.once('ready', () => {
      client.options.enableOfflineQueue = false;
    });
  }
  logConnectionErrors(client, options.name, options.logger);
  return client;
}

/**
 * Gives a client — and every `duplicate()` of it, and theirs (subscribers, blocking stream readers, the token-stream
 * writer, BullMQ's blocking connection) — an 'error' listener. Without one, ioredis prints "[ioredis] Unhandled error
 * event" with the stack to stderr on every failed reconnection while Redis is down. Logged once per outage at warn
 * (the message and code only: no URL, no password), and at info when the client is ready again.
 */
function logConnectionErrors(client: Redis, name: string, logger: Logger | undefined): void {
  let failingSince: number | undefined;
  let failures = 0;
  client.on('error', (error: Error & { code?: unknown }) => {
    failures++;
    if (failingSince !== undefined) return;
    failingSince = Date.now();
    logger?.warn({ err: { message: error.message, ...(typeof error.code === 'string' ? { code: error.code } : {}) }, redis: name }, 'redis connection error');
  });
  client.on('ready', () => {
    if (failingSince === undefined) return;
    logger?.info({ redis: name, downMs: Date.now() - failingSince, failures }, 'redis connection restored');
    failingSince = undefined;
    failures = 0;
  });
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override?: Partial<RedisOptions>) => {
    const copy = duplicate(override);
    logConnectionErrors(copy, override?.connectionName ?? `${name}-duplicate`, logger);
    return copy;
  };
}

/**
 * Why a Redis command failed for want of Redis, as `extensions.reason` of UPSTREAM_UNAVAILABLE says it:
 * `unreachable` — refused at once, the client is not connected (a request-path client queues nothing while
 * reconnecting); `connection_lost` — the connection dropped with the command in flight or queued, and it failed once
 * the reconnection attempts it may wait for failed too; `timeout` — no answer within the command timeout.
 */
export type RedisUnavailableReason = 'unreachable' | 'connection_lost' | 'timeout';

/** What ioredis says (its own words) when a command failed because Redis could not be reached, not because of the command. */
const UNAVAILABLE_MESSAGES: ReadonlyArray<readonly [string, RedisUnavailableReason]> = [
  ["Stream isn't writeable", 'unreachable'],
  ['Connection is closed', 'unreachable'],
  ['Reached the max retries per request limit', 'connection_lost'],
  ['Command timed out', 'timeout'],
];

/**
 * Why a Redis command failed because Redis was unreachable or did not answer in time (see {@link createRedis} and
 * {@link RedisUnavailableReason}); undefined for any other error. Recognised by ioredis's own messages (not by socket
 * error codes, which other clients' failures carry too). Follows `cause`.
 */
export function redisUnavailableReason(error: unknown): RedisUnavailableReason | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current.name === 'MaxRetriesPerRequestError') return 'connection_lost';
    const message = current.message;
    const known = UNAVAILABLE_MESSAGES.find(([text]) => message.startsWith(text));
    if (known) return known[1];
    current = current.cause;
  }
  return undefined;
}

/**
 * True when a Redis command failed because Redis was unreachable or did not answer in time: such a request should
 * answer UPSTREAM_UNAVAILABLE (service `redis`, reason {@link redisUnavailableReason}), not INTERNAL_SERVER_ERROR.
 */
export function isRedisUnavailableError(error: unknown): boolean {
  return redisUnavailableReason(error) !== undefined;
}

/** Closes a client, waiting for pending replies, but never hangs shutdown on a dead connection. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  client.disconnect();
}

/**
 * Version of the public catalogs (chat and image models, products): the subgraph that changes one bumps it, and the
 * gateway's response cache puts it in every cache key (the image subgraph keeps each tenant's image models under
 * it), so a cached catalog is never used after a change, on any replica. Shared by every process under the same key
 * prefix.
 */
export const CATALOG_VERSION_KEY = 'catalog:version';

/** The catalog version now (`0` before any change); throws when Redis cannot be read. */
export async function readCatalogVersion(client: Redis): Promise<string> {
  return (await client.get(CATALOG_VERSION_KEY)) ?? '0';
}

/** Marks every cached catalog answer stale (call after an ADMIN changed a model or a product). */
export async function bumpCatalogVersion(client: Redis): Promise<void> {
  await client.incr(CATALOG_VERSION_KEY);
}

/**
 * What a subgraph calls after a committed catalog change: bumps the version, and when Redis fails, logs instead of
 * throwing (the change is written; cached answers then show it when they expire, after their maxAge).
 */
export async function catalogChanged(client: Redis, logger: Logger): Promise<void> {
  try {
    await bumpCatalogVersion(client);
  } catch (error) {
    logger.error({ err: error }, 'could not mark the catalog changed (response caches keep it until they expire)');
  }
}

export { compareStreamIds, createSharedStreamReader, parseStreamEntries, type RawStreamEntry, type RawStreamListener, type SharedStreamReader, type SharedStreamReaderOptions } from './stream-reader.ts';
export { createFollow, FOLLOW_DONE, type Follow } from './follow-iterator.ts';
