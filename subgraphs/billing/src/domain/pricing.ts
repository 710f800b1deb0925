import { badUserInput } from '@firefly/errors';

/** Credits per 1,000 tokens of a chat model (ChatPrice). */
export interface ChatPrice {
  inputPer1kTokens: number;
  outputPer1kTokens: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Credits are stored in a signed 32-bit column; a cost above it cannot be held or booked. */
export const MAX_CREDITS = 2_147_483_647;

/**
 * Credits for one chat message, rounded UP per message:
 *
 *   ceil((inputTokens × inputPer1kTokens + outputTokens × outputPer1kTokens) / 1000)
 *
 * The two products are summed before rounding (one rounding per message, not per direction), and the arithmetic
 * is in BigInt so token counts and prices up to 2^31 never lose precision as doubles would. A message with no
 * tokens costs 0; any non-zero usage of a priced model costs at least 1.
 */
export function computeChatCost(price: ChatPrice, usage: TokenUsage): number {
  const input = countOf(usage.inputTokens, 'inputTokens');
  const output = countOf(usage.outputTokens, 'outputTokens');
  const milli = input * BigInt(price.inputPer1kTokens) + output * BigInt(price.outputPer1kTokens);
  return toCredits((milli + 999n) / 1000n);
}

/** Credits for `count` images at `perImage` credits each. */
export function computeImageCost(perImage: number, count: number): number {
  return toCredits(BigInt(perImage) * countOf(count, 'count'));
}

function countOf(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw badUserInput(`${field} must be a whole number of 0 or more`, { field });
  return BigInt(value);
}

function toCredits(value: bigint): number {
  if (value > BigInt(MAX_CREDITS)) throw badUserInput('the cost is larger than any balance can hold');
  return Number(value);
}
