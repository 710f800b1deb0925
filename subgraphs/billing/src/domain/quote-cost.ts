import { notFound } from '@firefly/errors';
import type { PriceSource } from './ports.ts';
import { computeChatCost, computeImageCost, type TokenUsage } from './pricing.ts';
import { requireKey } from './validate.ts';

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
