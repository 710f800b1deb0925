import { assertNever, badUserInput, conflict, notFound } from '@firefly/errors';
import type { LedgerReason } from '@firefly/db';
import type { BillingScope } from './scope.ts';
import { ledgerKeys } from './ids.ts';
import type { ReservationRow } from './ports.ts';
import { computeSettlement, settlementNote, type Settlement } from './settlement.ts';
import { requireCredits, requireKey } from './validate.ts';

/** Spending reasons a settlement may book; the others belong to purchases, refunds, grants and admins. */
const USAGE_REASONS: readonly LedgerReason[] = ['CHAT_USAGE', 'IMAGE_USAGE'];

export interface SettleReservationInput {
  tenantId: string;
  reservationId: string;
  /** The real cost. Above the hold, see {@link computeSettlement}. */
  actualAmount: number;
  reason: LedgerReason;
  /** Defaults to the reservation's referenceId. */
  referenceId?: string | null;
}

export interface SettleReservationResult {
  reservation: ReservationRow;
  /** Cost written off because it exceeded hold + available (0 on a replay). */
  shortfall: number;
}

/**
 * Charges the actual cost of a HELD reservation with one ledger entry and returns the rest of the hold. Idempotent
 * by reservation id: settling a SETTLED reservation again — sequentially or concurrently — books nothing and
 * returns it as it is (the first settlement's amount wins). A RELEASED reservation (released by its caller or by
 * the expiry sweep) cannot be settled any more: CONFLICT, because its credits are no longer held.
 */
export async function settleReservation(scope: BillingScope, input: SettleReservationInput): Promise<SettleReservationResult> {
  const actual = requireCredits(input.actualAmount, 'actualAmount', { allowZero: true });
  if (!USAGE_REASONS.includes(input.reason)) {
    throw badUserInput(`reason must be one of ${USAGE_REASONS.join(', ')}`, { field: 'reason' });
  }
  if (input.referenceId != null) requireKey(input.referenceId, 'referenceId');

  let settlement: Settlement | undefined;
  // Read, claimed and charged under the lock in one transaction; a SETTLED or RELEASED reservation changes nothing.
  const outcome = await scope.store.close({ id: input.reservationId, tenantId: input.tenantId }, {
    status: 'SETTLED',
    decide: (reservation, available) => {
      settlement = computeSettlement({ hold: reservation.amount, actual, available });
      const entry =
        settlement.charged === 0
          ? null
          : {
              reason: input.reason,
              referenceId: input.referenceId ?? reservation.referenceId,
              idempotencyKey: ledgerKeys.reservation(reservation.id),
              note: settlementNote({ hold: reservation.amount, actual }, settlement),
            };
      return { charged: settlement.charged, entry };
    },
  });
  switch (outcome.kind) {
    case 'missing':
      throw notFound('Reservation');
    case 'closed': {
      const { reservation } = outcome;
      const shortfall = settlement?.shortfall ?? 0;
      if (shortfall > 0) {
        scope.logger.warn({ reservationId: reservation.id, hold: reservation.amount, actual, charged: outcome.charged, shortfall }, 'settlement exceeded hold + available; shortfall written off');
      }
      return { reservation, shortfall };
    }
    case 'unchanged':
      return { reservation: alreadyClosed(outcome.reservation), shortfall: 0 };
    default:
      return assertNever(outcome);
  }
}

function alreadyClosed(reservation: ReservationRow): ReservationRow {
  if (reservation.status === 'SETTLED') return reservation;
  throw conflict('The reservation was released and can no longer be settled', { status: reservation.status });
}
