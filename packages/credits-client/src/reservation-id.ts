import { createHash } from 'node:crypto';

/**
 * The id billing gives a hold: derived from the caller's idempotency key (per tenant and user), so a retried
 * reservation collides on the primary key instead of holding twice — and a caller knows the id of the hold it is
 * asking for before billing answers (the conversation subgraph stores it with the answer while the hold is placed).
 * Billing's reservations use this very function.
 */
export function reservationIdFor(tenantId: string, userId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${userId}\u0000${idempotencyKey}`).digest('base64url');
  return `rsv_${digest}`;
}
