import { assertNever, badUserInput, conflict, insufficientCredits, isAppError } from '@firefly/errors';
import type { BillingScope } from './scope.ts';
import { reservationIdFor } from './ids.ts';
import type { HeldChatPrice, ReservationRow } from './ports.ts';
import { requireCredits, requireKey } from './validate.ts';

export interface ReserveCreditsInput {
  tenantId: string;
  userId: string;
  /** Upper bound of the cost. */
  amount: number;
  /** What the credits are for (assistant message id, image job id). */
  referenceId: string;
  /** The sweeper releases the hold after this many seconds if nobody settles or releases it. */
  ttlSeconds: number;
  /** The same key (per tenant and user) returns the same reservation instead of holding twice. */
  idempotencyKey: string;
  /**
   * The partner whose API key made the request the hold is for, as the calling service's signed credential names it
   * (never an argument a caller could set); recorded on the hold and on its settlement's ledger entry.
   */
  partnerId?: string | null;
}

/**
 * Holds `amount` credits (available → reserved) or fails with INSUFFICIENT_CREDITS. Idempotent by
 * `idempotencyKey`: a retry, even one racing the original, returns the original reservation — whatever its status
 * now — and a key reused for a different amount or reference is a CONFLICT.
 */
export async function reserveCredits(scope: BillingScope, input: ReserveCreditsInput): Promise<ReservationRow> {
  requireCredits(input.amount, 'amount', { allowZero: false });
  return reservePriced(scope, input, () => ({ amount: input.amount }));
}

/** An amount worked out from a price, with the chat price it was worked out at (stored on the hold). */
interface PricedAmount {
  amount: number;
  chatPrice?: HeldChatPrice;
}

/**
 * {@link reserveCredits} for an amount still being worked out (reserveChatCredits' price lookup). Nothing is read
 * before the hold: the hold's own statements find the account (none, or too few credits: nothing is held), and the
 * reservation's primary key (derived from the idempotency key) refuses a second hold. Only then, when the hold did not
 * happen, is the reservation read: a retry, even one racing the original, answers with the original.
 */
async function reservePriced(scope: BillingScope, input: Omit<ReserveCreditsInput, 'amount'>, amountOf: () => PricedAmount | Promise<PricedAmount>): Promise<ReservationRow> {
  const { store, settings } = scope;
  requireKey(input.userId, 'userId');
  requireKey(input.referenceId, 'referenceId');
  requireKey(input.idempotencyKey, 'idempotencyKey');
  if (!Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds < 1 || input.ttlSeconds > settings.maxReservationTtlSeconds) {
    throw badUserInput(`ttlSeconds must be a whole number from 1 to ${settings.maxReservationTtlSeconds}`, { field: 'ttlSeconds' });
  }

  const id = reservationIdFor(input.tenantId, input.userId, input.idempotencyKey);
  const priced = await amountOf();
  // A priced amount may be 0: an image model priced 0 (free for the platform or one tenant) holds nothing and its job
  // settles at 0. reserveCredits refuses 0 itself; reserveChatCredits holds at least 1 credit.
  const amount = requireCredits(priced.amount, 'amount', { allowZero: true });

  const now = scope.now?.() ?? new Date();
  const outcome = await store.hold(
    { tenantId: input.tenantId, userId: input.userId },
    {
      id,
      amount,
      referenceId: input.referenceId,
      partnerId: input.partnerId ?? null,
      expiresAt: new Date(now.getTime() + input.ttlSeconds * 1_000),
      chatPrice: priced.chatPrice,
    },
  );
  switch (outcome.kind) {
    case 'held':
      return outcome.reservation;
    case 'duplicate':
    case 'refused': {
      // A retry of the same request (or a concurrent one that won the race) answers as the original did.
      const [existing, account] = await Promise.all([store.findReservation(id, input.tenantId), outcome.kind === 'refused' ? store.findAccount(input.tenantId, input.userId) : null]);
      if (existing) return sameRequest(existing, { ...input, amount });
      if (outcome.kind === 'duplicate') throw new Error(`reservation ${id} collided but cannot be read back`);
      throw insufficientCredits({ available: account?.available ?? 0, requested: amount });
    }
    default:
      return assertNever(outcome);
  }
}

/**
 * {@link reservePriced} at the price in force now (reserveChatCredits, reserveImageCredits). A retry is priced again,
 * so a price change between the first attempt and its retry would make the amounts differ: the retry then returns the
 * reservation the first attempt made for the same reference instead of failing with CONFLICT (a key reused for
 * another reference still does).
 */
export async function reserveAtCurrentPrice(scope: BillingScope, hold: Omit<ReserveCreditsInput, 'amount'>, amountOf: () => Promise<PricedAmount>): Promise<ReservationRow> {
  try {
    return await reservePriced(scope, hold, amountOf);
  } catch (error) {
    if (!isAppError(error) || error.code !== 'CONFLICT') throw error;
    const first = await scope.store.findReservation(reservationIdFor(hold.tenantId, hold.userId, hold.idempotencyKey), hold.tenantId);
    if (first && first.referenceId === hold.referenceId) return first;
    throw error;
  }
}

function sameRequest(reservation: ReservationRow, input: Pick<ReserveCreditsInput, 'amount' | 'referenceId'>): ReservationRow {
  if (reservation.amount !== input.amount || reservation.referenceId !== input.referenceId) {
    throw conflict('idempotencyKey was already used for a different reservation', { field: 'idempotencyKey' });
  }
  return reservation;
}
