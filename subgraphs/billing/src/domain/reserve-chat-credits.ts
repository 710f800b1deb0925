import { isAppError } from '@firefly/errors';
import type { PriceSource, ReservationRow } from './ports.ts';
import { quoteChatCost } from './quote-cost.ts';
import { reservePriced, type ReserveCreditsInput } from './reserve-credits.ts';
import { reservationIdFor } from './ids.ts';
import type { BillingScope } from './scope.ts';

export interface ReserveChatCreditsInput extends Omit<ReserveCreditsInput, 'amount'> {
  modelId: string;
  /** The prompt's input tokens (the caller's upper-bound estimate). */
  inputTokens: number;
  /** The answer's output cap. */
  outputTokens: number;
}

/**
 * One chat answer's hold in one call (the conversation subgraph's sendMessage/regenerateMessage): the worst case
 * priced at today's chat price for the tenant (its own override, else the platform's) — exactly `chatCost(modelId, inputTokens, outputTokens)`, at least 1 credit — then held
 * as `reserveCredits` holds it. NOT_FOUND for a model without a price, before anything is held.
 *
 * Idempotent by `idempotencyKey` like reserveCredits. A retry is priced again, so a price change between the first
 * attempt and its retry would make the amounts differ: the retry then returns the reservation the first attempt
 * made for the same reference instead of failing with CONFLICT (a key reused for another reference still does).
 */
export async function reserveChatCredits(scope: BillingScope, prices: PriceSource, input: ReserveChatCreditsInput): Promise<ReservationRow> {
  const { modelId, inputTokens, outputTokens, ...hold } = input;
  try {
    // Priced while the reservation and the account are read (reservePriced).
    return await reservePriced(scope, hold, async () => Math.max(1, await quoteChatCost(prices, { tenantId: hold.tenantId, modelId, inputTokens, outputTokens })));
  } catch (error) {
    if (!isAppError(error) || error.code !== 'CONFLICT') throw error;
    const first = await scope.store.findReservation(reservationIdFor(hold.tenantId, hold.userId, hold.idempotencyKey), hold.tenantId);
    if (first && first.referenceId === hold.referenceId) return first;
    throw error;
  }
}
