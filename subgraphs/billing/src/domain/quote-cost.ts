import { notFound } from '@firefly/errors';
import type { HeldChatPrice, PriceSource, ReservationRow } from './ports.ts';
import { computeChatCost, computeImageCost, type TokenUsage } from './pricing.ts';
import { requireCredits, requireKey } from './validate.ts';

/** The price `tenantId` pays (its own, else the platform's); `at`: the moment whose price applies (a reservation's creation), default now. */
export async function quoteChatCost(prices: PriceSource, input: { tenantId: string; modelId: string; at?: Date | undefined } & TokenUsage): Promise<number> {
  return (await priceChat(prices, input)).cost;
}

/** {@link quoteChatCost} with the price it was computed at (reserveChatCredits stores it on the hold). */
export async function priceChat(
  prices: PriceSource,
  input: { tenantId: string; modelId: string; at?: Date | undefined } & TokenUsage,
): Promise<{ cost: number; price: HeldChatPrice }> {
  const modelId = requireKey(input.modelId, 'modelId');
  const price = await prices.findChatPrice(input.tenantId, modelId, input.at);
  if (!price) throw notFound('Chat model price', { modelId: input.modelId });
  return { cost: computeChatCost(price, input), price: { modelId, inputPer1kTokens: price.inputPer1kTokens, outputPer1kTokens: price.outputPer1kTokens } };
}

/**
 * A settlement's chat cost (chatCost with reservationId): at the price the hold was priced at when it stored one for
 * this model — the hold is priced a moment before billing stamps the reservation, so a price change in that moment
 * would otherwise charge at a price the hold was not made at — else at the price in force when it was made.
 */
export async function quoteReservedChatCost(
  prices: PriceSource,
  reservation: Pick<ReservationRow, 'createdAt' | 'chatModelId' | 'chatInputPer1kTokens' | 'chatOutputPer1kTokens'>,
  input: { tenantId: string; modelId: string } & TokenUsage,
): Promise<number> {
  const { chatModelId, chatInputPer1kTokens, chatOutputPer1kTokens } = reservation;
  if (chatModelId !== null && chatModelId === input.modelId && chatInputPer1kTokens !== null && chatOutputPer1kTokens !== null) {
    return computeChatCost({ inputPer1kTokens: chatInputPer1kTokens, outputPer1kTokens: chatOutputPer1kTokens }, input);
  }
  return quoteChatCost(prices, { ...input, at: reservation.createdAt });
}

export async function quoteImageCost(prices: PriceSource, input: { tenantId: string; modelId: string; size: string; count: number; at?: Date | undefined }): Promise<number> {
  const perImage = await prices.findImagePrice(input.tenantId, requireKey(input.modelId, 'modelId'), requireKey(input.size, 'size'), input.at);
  if (perImage === null) throw notFound('Image model price', { modelId: input.modelId });
  return computeImageCost(perImage, input.count);
}

/** upsertChatModel's price, through the internal API: in force from now on. */
export async function setChatPrice(prices: PriceSource, input: { modelId: string; inputPer1kTokens: number; outputPer1kTokens: number }): Promise<boolean> {
  const price = {
    inputPer1kTokens: requireCredits(input.inputPer1kTokens, 'inputPer1kTokens', { allowZero: true }),
    outputPer1kTokens: requireCredits(input.outputPer1kTokens, 'outputPer1kTokens', { allowZero: true }),
  };
  await prices.setChatPrice(requireKey(input.modelId, 'modelId'), price, new Date());
  return true;
}

/** upsertImageModel's price, through the internal API: in force from now on. */
export async function setImagePrice(prices: PriceSource, input: { modelId: string; perImage: number }): Promise<boolean> {
  await prices.setImagePrice(requireKey(input.modelId, 'modelId'), requireCredits(input.perImage, 'perImage', { allowZero: true }), new Date());
  return true;
}
