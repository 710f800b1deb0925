import type { JobDefinition } from '@firefly/server-kit';
import { sweepOrphanedGenerations } from '../generation/sweep-orphaned-generations.ts';
import type { ConversationServices } from '../services.ts';

/** Every GENERATION_SWEEP_INTERVAL_SECONDS, finish the generations whose process died (generation/). */
export function sweepOrphanedGenerationsJob(options: { services: ConversationServices; everyMs: number }): JobDefinition {
  return {
    name: 'sweep-orphaned-generations',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) => sweepOrphanedGenerations(options.services, { logger }),
  };
}
