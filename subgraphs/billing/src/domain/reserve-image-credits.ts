import type { PriceSource, ReservationRow } from './ports.ts';
import { quoteImageCost } from './quote-cost.ts';
import { reserveAtCurrentPrice, type ReserveCreditsInput } from './reserve-credits.ts';
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
 * `reserveCredits` holds it. NOT_FOUND for a model without a price, before anything is held. The hold is count × the
 * price per image, so the caller reads the price per image off the reservation's amount. Idempotent by
 * `idempotencyKey`, a retry after a price change included (reserveAtCurrentPrice).
 */
export function reserveImageCredits(scope: BillingScope, prices: PriceSource, input: ReserveImageCreditsInput): Promise<ReservationRow> {
  const { modelId, size, count, ...hold } = input;
  // Priced while the reservation and the account are read (reservePriced).
  return reserveAtCurrentPrice(scope, hold, async () => ({ amount: await quoteImageCost(prices, { tenantId: hold.tenantId, modelId, size, count }) }));
}
