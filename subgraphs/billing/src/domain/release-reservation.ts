import { notFound } from '@firefly/errors';
import type { BillingScope } from './scope.ts';
import type { ReservationRow } from './ports.ts';

export interface ReleaseReservationInput {
  tenantId: string;
  reservationId: string;
}

/**
 * Returns the whole hold of a HELD reservation to available, booking nothing (a hold never created a ledger
 * entry). Idempotent by reservation id: releasing a RELEASED or SETTLED reservation changes nothing and returns it,
 * so a caller may always release on its failure path without knowing whether it had settled.
 */
export async function releaseReservation(scope: BillingScope, input: ReleaseReservationInput): Promise<ReservationRow> {
  const outcome = await scope.store.close({ id: input.reservationId, tenantId: input.tenantId }, { status: 'RELEASED', decide: () => ({ charged: 0, entry: null }) });
  if (outcome.kind === 'missing') throw notFound('Reservation');
  return outcome.reservation;
}
