import { isAppError } from '@firefly/errors';
import type { PriceSource, ReservationRow } from './ports.ts';
import { quoteImageCost } from './quote-cost.ts';
import { reservePriced, type ReserveCreditsInput } from './reserve-credits.ts';
import { reservationIdFor } from './ids.ts';
import type { BillingScope } from './scope.ts';

export interface ReserveImageCreditsInput extends Omit<ReserveCreditsInput, 'amount'> {
  modelId: string;
  /** Image size as DashScope writes it, e.g. "1024*1024". */
  size: string;
  /** Number of images. */
  count: number;
}

/**
 * One image job's hold in one call (the image subgraph's createImageJob): `count` images priced at the tenant's price
 * per image today (its own override, else the platform's) — exactly `imageCost(modelId, size, count)` — then held as
 * `reserveCredits` holds it. NOT_FOUND for a model without a price, before anything is held. The hold is count × the price per image, so the caller reads the price
 * per image off the reservation's amount.
 *
 * Idempotent by `idempotencyKey` like reserveCredits. A retry is priced again, so a price change between the first
 * attempt and its retry would make the amounts differ: the retry then returns the reservation the first attempt
 * made for the same reference instead of failing with CONFLICT (a key reused for another reference still does).
 */
export async function reserveImageCredits(scope: BillingScope, prices: PriceSource, input: ReserveImageCreditsInput): Promise<ReservationRow> {
  const { modelId, size, count, ...hold } = input;
  try {
    // Priced while the reservation and the account are read (reservePriced).
    return await reservePriced(scope, hold, () => quoteImageCost(prices, { tenantId: hold.tenantId, modelId, size, count }));
  } catch (error) {
    if (!isAppError(error) || error.code !== 'CONFLICT') throw error;
    const first = await scope.store.findReservation(reservationIdFor(hold.tenantId, hold.userId, hold.idempotencyKey), hold.tenantId);
    if (first && first.referenceId === hold.referenceId) return first;
    throw error;
  }
}
