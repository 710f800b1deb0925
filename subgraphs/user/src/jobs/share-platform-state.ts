import type { JobDefinition } from '@firefly/server-kit';
import type { PlatformStateSharing } from '../services.ts';

/**
 * Copies the tenants and the system settings into Redis whenever Redis holds an older revision than MySQL (a change whose copy failed, a
 * Redis that lost its data, a first start), so every process gets them (@firefly/platform-state). Also run once
 * when the subgraph starts.
 */
export function sharePlatformStateJob(options: { sharing: PlatformStateSharing; everyMs: number }): JobDefinition {
  return {
    name: 'share-platform-state',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: async ({ logger }) => {
      if (await options.sharing.syncTenants()) logger.info('tenants copied to Redis');
      if (await options.sharing.syncSettings()) logger.info('system settings copied to Redis');
    },
  };
}
