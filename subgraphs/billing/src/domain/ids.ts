import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids made by this process in
 * the same millisecond in creation order, then random bits. Ledger entries use it as the tie-breaker of their
 * (createdAt, id) order, so "newest first" is the booking order even within one millisecond.
 */
export function newSortableId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs += 1;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The reservation id, derived from the caller's idempotency key: one definition, shared with the callers. */
export { reservationIdFor } from '@firefly/credits-client';

/** Ledger idempotency keys: one per business event, unique per account. */
export const ledgerKeys = {
  signupGrant: () => 'signup-grant',
  reservation: (reservationId: string) => `reservation:${reservationId}`,
  /** Every admin adjustment is its own event: admins do not retry, and two equal adjustments may both be meant. */
  adjustment: (eventId: string) => `adjustment:${eventId}`,
} as const;
