import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@firefly/logger';

export { Redis };

export interface CreateRedisOptions {
  url: string;
  /** Prepended to every key this client touches (isolates environments and test runs). Default none. */
  keyPrefix?: string;
  /** Connection name shown in `CLIENT LIST`, e.g. `subgraph-user`. */
  name: string;
  logger?: Logger;
  /**
   * `null` for blocking clients (BullMQ workers, stream readers), which must wait for Redis to come back
   * rather than fail their commands. Default 3 (fail fast on request paths).
   */
  maxRetriesPerRequest?: number | null;
}

/**
 * A Redis client with logged (never thrown) connection errors. Sentinel or Cluster URLs can be added here
 * without touching callers.
 */
export function createRedis(options: CreateRedisOptions): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    enableAutoPipelining: true,
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
  };
  const client = new Redis(options.url, redisOptions);
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    // ioredis retries on its own; log at most once every 5 s so an outage does not flood the logs.
    const now = Date.now();
    if (now - lastLogged > 5_000) {
      lastLogged = now;
      options.logger?.warn({ err: { message: error.message }, redis: options.name }, 'redis connection error');
    }
  });
  return client;
}

/** Closes a client, waiting for pending replies, but never hangs shutdown on a dead connection. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  client.disconnect();
}

/**
 * Version of the public catalogs (chat and image models, products): the subgraph that changes one bumps it, and the
 * gateway's response cache puts it in every cache key, so a cached catalog answer is never served after a change,
 * on any replica. Shared by every process under the same key prefix.
 */
export const CATALOG_VERSION_KEY = 'catalog:version';

/** Marks every cached catalog answer stale (call after an ADMIN changed a model or a product). */
export async function bumpCatalogVersion(client: Redis): Promise<void> {
  await client.incr(CATALOG_VERSION_KEY);
}

export { compareStreamIds, createSharedStreamReader, parseStreamEntries, type RawStreamEntry, type RawStreamListener, type SharedStreamReader, type SharedStreamReaderOptions } from './stream-reader.ts';
