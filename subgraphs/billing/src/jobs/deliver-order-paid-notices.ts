import type { JobDefinition } from '@firefly/server-kit';
import type { OrderPaidNotices } from '../domain/order-paid-notices.ts';

/** Delivers the payment-success SMS that are due: those whose first try failed or never ran (domain/order-paid-notices.ts). */
export function deliverOrderPaidNoticesJob(options: { notices: OrderPaidNotices; everyMs: number; batchSize: number }): JobDefinition {
  return {
    name: 'deliver-order-paid-notices',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) => options.notices.deliverDue(options.batchSize, logger),
  };
}
