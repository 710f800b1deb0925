import type { JobDefinition } from '@firefly/server-kit';
import { deliverPendingSettlements } from '../generation/settlements.ts';
import type { ConversationServices } from '../services.ts';

/** Every GENERATION_SWEEP_INTERVAL_SECONDS, retry the chat settlements billing did not accept (generation/settlements.ts). */
export function deliverPendingSettlementsJob(options: { services: ConversationServices; everyMs: number }): JobDefinition {
  return {
    name: 'deliver-pending-settlements',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) => deliverPendingSettlements({ credits: options.services.credits, outbox: options.services.outbox, logger }),
  };
}
