import type { PaymentChannel } from '@firefly/db';
import type { OrderRow } from '../data/order-store.ts';

/**
 * What the payment use cases report when they change something (metrics, the buyer's SMS). Each is called by the
 * call that made the change, so at most once per change however many notifications, queries and replicas race.
 * A listener must not throw (nothing waits for it, and the change is already committed).
 */
export interface PaymentEvents {
  /** A new order with its payment instruction. */
  orderCreated?(order: OrderRow): void;
  /** This call moved the order PENDING → PAID and booked its credits. */
  orderPaid?(order: OrderRow): void;
  /** A refund ended at the provider: `succeeded` (credits taken back) or `failed` (order back to paid). */
  refundFinished?(channel: PaymentChannel, outcome: 'succeeded' | 'failed'): void;
}
