import type { PriceSource, ReservationRow } from './ports.ts';
import { priceChat } from './quote-cost.ts';
import { reserveAtCurrentPrice, type ReserveCreditsInput } from './reserve-credits.ts';
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
 * priced at today's chat price for the tenant (its own override, else the platform's) — exactly
 * `chatCost(modelId, inputTokens, outputTokens)`, at least 1 credit — then held as `reserveCredits` holds it.
 * NOT_FOUND for a model without a price, before anything is held. Idempotent by `idempotencyKey`, a retry after a
 * price change included (reserveAtCurrentPrice). The price is stored on the hold, and its settlement is priced at
 * it (quoteReservedChatCost).
 */
export function reserveChatCredits(scope: BillingScope, prices: PriceSource, input: ReserveChatCreditsInput): Promise<ReservationRow> {
  const { modelId, inputTokens, outputTokens, ...hold } = input;
  // Priced while the reservation and the account are read (reservePriced).
  return reserveAtCurrentPrice(scope, hold, async () => {
    const { cost, price } = await priceChat(prices, { tenantId: hold.tenantId, modelId, inputTokens, outputTokens });
    return { amount: Math.max(1, cost), chatPrice: price };
  });
}
