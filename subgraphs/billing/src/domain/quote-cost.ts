import { notFound } from '@firefly/errors';
import type { PriceSource } from './ports.ts';
import { computeChatCost, computeImageCost, type TokenUsage } from './pricing.ts';
import { requireCredits, requireKey } from './validate.ts';

/** The price `tenantId` pays (its own, else the platform's); `at`: the moment whose price applies (a reservation's creation), default now. */
export async function quoteChatCost(prices: PriceSource, input: { tenantId: string; modelId: string; at?: Date | undefined } & TokenUsage): Promise<number> {
  const price = await prices.findChatPrice(input.tenantId, requireKey(input.modelId, 'modelId'), input.at);
  if (!price) throw notFound('Chat model price', { modelId: input.modelId });
  return computeChatCost(price, input);
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
