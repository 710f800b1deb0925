import type { JobDefinition } from '@firefly/server-kit';
import { restoreLostGenerations, sweepOrphanedGenerations } from '../generation/sweep-orphaned-generations.ts';
import type { ConversationServices } from '../services.ts';

/**
 * Every GENERATION_SWEEP_INTERVAL_SECONDS, finish the generations whose process died, and give STREAMING answers
 * whose record Redis lost a record again (finished by a later round) (generation/).
 */
export function sweepOrphanedGenerationsJob(options: { services: ConversationServices; everyMs: number }): JobDefinition {
  return {
    name: 'sweep-orphaned-generations',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: async ({ logger }) => {
      await sweepOrphanedGenerations(options.services, { logger });
      await restoreLostGenerations(options.services, { logger });
    },
  };
}
