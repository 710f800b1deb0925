import type { JobDefinition } from '@firefly/server-kit';
import type { UserDb } from '@firefly/db';
import type { Redis } from '@firefly/redis';
import { syncPartnerMarkers } from '../domain/partners.ts';

/**
 * Brings the revocation and suspension markers in Redis in line with MySQL every `everyMs` (a Redis that lost its
 * data, a reactivation whose marker removal failed; domain/partners.ts).
 */
export function syncPartnerMarkersJob(options: { db: UserDb; redis: Redis; everyMs: number }): JobDefinition {
  return {
    name: 'sync-partner-markers',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) => syncPartnerMarkers(options.db, options.redis, logger),
  };
}
