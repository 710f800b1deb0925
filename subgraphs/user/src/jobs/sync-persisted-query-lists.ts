import type { JobDefinition } from '@firefly/server-kit';
import type { UserDb } from '@firefly/db';
import type { Redis } from '@firefly/redis';
import { syncListsToRedis } from '../domain/persisted-query-lists.ts';

/**
 * Copies to Redis any persisted query list MySQL holds in a newer version than Redis (a publish whose copy failed,
 * a Redis that lost its data), so every gateway gets it (domain/persisted-query-lists.ts).
 */
export function syncPersistedQueryListsJob(options: { db: UserDb; redis: Redis; everyMs: number }): JobDefinition {
  return {
    name: 'sync-persisted-query-lists',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) => syncListsToRedis(options.db, options.redis, logger),
  };
}
