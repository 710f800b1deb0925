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
