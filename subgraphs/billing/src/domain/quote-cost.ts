import { notFound } from '@firefly/errors';
import { computeChatCost, computeImageCost, type ChatPrice, type TokenUsage } from './pricing.ts';
import { requireKey } from './validate.ts';

/** Where prices come from (ChatPrice / ImagePrice, global catalog rows). */
export interface PriceSource {
  findChatPrice(modelId: string): Promise<ChatPrice | null>;
  /** Credits per image for the size's own row, else the model's "*" row; null when neither exists. */
  findImagePrice(modelId: string, size: string): Promise<number | null>;
}

export async function quoteChatCost(prices: PriceSource, input: { modelId: string } & TokenUsage): Promise<number> {
  const price = await prices.findChatPrice(requireKey(input.modelId, 'modelId'));
  if (!price) throw notFound('Chat model price', { modelId: input.modelId });
  return computeChatCost(price, input);
}

export async function quoteImageCost(prices: PriceSource, input: { modelId: string; size: string; count: number }): Promise<number> {
  const perImage = await prices.findImagePrice(requireKey(input.modelId, 'modelId'), requireKey(input.size, 'size'));
  if (perImage === null) throw notFound('Image model price', { modelId: input.modelId });
  return computeImageCost(perImage, input.count);
}
