import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SEED_CHAT_MODELS, SEED_IMAGE_MODELS } from '@firefly/db/seed';
import { createPriceSource } from '../data/prices.ts';
import { computeChatCost, computeImageCost } from '../domain/pricing.ts';
import { quoteChatCost, quoteImageCost } from '../domain/quote-cost.ts';
import { computeSettlement, settlementNote } from '../domain/settlement.ts';
import { openTestDb } from './helpers.ts';

describe('chat cost: ceil((in × inPrice + out × outPrice) / 1000), rounded up once per message', () => {
  const price = { inputPer1kTokens: 2, outputPer1kTokens: 6 };

  it('is exact on whole thousands', () => {
    expect(computeChatCost(price, { inputTokens: 1000, outputTokens: 1000 })).toBe(8);
    expect(computeChatCost(price, { inputTokens: 3000, outputTokens: 0 })).toBe(6);
  });

  it('rounds any fraction up, never down', () => {
    expect(computeChatCost(price, { inputTokens: 1, outputTokens: 0 })).toBe(1); // 0.002 → 1
    expect(computeChatCost(price, { inputTokens: 500, outputTokens: 0 })).toBe(1); // 1.000 → 1 (exact)
    expect(computeChatCost(price, { inputTokens: 501, outputTokens: 0 })).toBe(2); // 1.002 → 2
    expect(computeChatCost(price, { inputTokens: 12, outputTokens: 34 })).toBe(1); // 0.228 → 1
  });

  it('sums both directions before rounding (one rounding per message, not two)', () => {
    // 0.4 + 0.6 = 1.0 → 1 (rounding each direction first would charge 1 + 1 = 2)
    expect(computeChatCost(price, { inputTokens: 200, outputTokens: 100 })).toBe(1);
  });

  it('costs nothing without tokens', () => {
    expect(computeChatCost(price, { inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('stays exact beyond double precision and refuses costs no balance can hold', () => {
    expect(computeChatCost({ inputPer1kTokens: 1, outputPer1kTokens: 1 }, { inputTokens: 2_000_000_000, outputTokens: 1 })).toBe(2_000_001);
    expect(() => computeChatCost({ inputPer1kTokens: 2_000_000_000, outputPer1kTokens: 0 }, { inputTokens: 2_000_000_000, outputTokens: 0 })).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    );
  });

  it('refuses negative or fractional token counts', () => {
    expect(() => computeChatCost(price, { inputTokens: -1, outputTokens: 0 })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    expect(() => computeChatCost(price, { inputTokens: 1.5, outputTokens: 0 })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('image cost is per image', () => {
    expect(computeImageCost(4, 3)).toBe(12);
    expect(computeImageCost(4, 0)).toBe(0);
  });
});

describe('settlement rule', () => {
  it('charges the actual cost and returns the rest of the hold', () => {
    expect(computeSettlement({ hold: 10, actual: 7, available: 0 })).toEqual({ charged: 7, returned: 3, shortfall: 0 });
  });
  it('takes an excess over the hold from available', () => {
    expect(computeSettlement({ hold: 10, actual: 13, available: 5 })).toEqual({ charged: 13, returned: -3, shortfall: 0 });
  });
  it('charges at most hold + available and records the rest as shortfall', () => {
    const settlement = computeSettlement({ hold: 10, actual: 20, available: 5 });
    expect(settlement).toEqual({ charged: 15, returned: -5, shortfall: 5 });
    expect(settlementNote({ hold: 10, actual: 20 }, settlement)).toMatch(/^shortfall=5 actual=20 hold=10 charged=15/);
  });
});

describe('prices of every seeded model (database)', () => {
  const db = openTestDb({ connectionLimit: 2 });
  const prices = createPriceSource(db);
  afterAll(() => db.$disconnect());

  it.each(SEED_CHAT_MODELS.map((model) => [model.id, model] as const))('chat model %s', async (modelId, model) => {
    const quote = (inputTokens: number, outputTokens: number) => quoteChatCost(prices, { tenantId: 'default', modelId, inputTokens, outputTokens });
    const expected = (inputTokens: number, outputTokens: number) =>
      Math.ceil((inputTokens * model.inputPer1kTokens + outputTokens * model.outputPer1kTokens) / 1000);
    expect(await quote(1000, 1000)).toBe(model.inputPer1kTokens + model.outputPer1kTokens);
    expect(await quote(1, 0)).toBe(1);
    expect(await quote(0, 1)).toBe(1);
    expect(await quote(0, 0)).toBe(0);
    for (const [input, output] of [
      [12, 34],
      [999, 1],
      [1001, 0],
      [123_456, 7_890],
      [model.maxInputTokens, 8_192],
    ] as const) {
      expect(await quote(input, output)).toBe(expected(input, output));
    }
  });

  it('pins the seeded chat prices down with hand-computed examples', async () => {
    const quote = (modelId: string, inputTokens: number, outputTokens: number) => quoteChatCost(prices, { tenantId: 'default', modelId, inputTokens, outputTokens });
    expect(await quote('qwen-turbo', 1500, 500)).toBe(3); // 1.5 + 1.0 = 2.5 → 3
    expect(await quote('qwen-plus', 1500, 500)).toBe(6); // 3.0 + 3.0 = 6
    expect(await quote('qwen-max', 1500, 501)).toBe(31); // 15 + 15.03 = 30.03 → 31
    expect(await quote('qwen-long', 100, 100)).toBe(1); // 0.1 + 0.2 = 0.3 → 1
  });

  it.each(SEED_IMAGE_MODELS.map((model) => [model.id, model] as const))('image model %s', async (modelId, model) => {
    expect(await quoteImageCost(prices, { tenantId: 'default', modelId, size: '1024*1024', count: 1 })).toBe(model.perImage);
    expect(await quoteImageCost(prices, { tenantId: 'default', modelId, size: '720*1280', count: 4 })).toBe(4 * model.perImage);
  });

  it('a size with its own price row wins over the model-wide "*" row', async () => {
    const modelId = `test-model-${randomUUID()}`;
    await db.imagePrice.createMany({ data: [{ modelId, size: '*', perImage: 5 }, { modelId, size: '2048*2048', perImage: 9 }] });
    expect(await quoteImageCost(prices, { tenantId: 'default', modelId, size: '2048*2048', count: 2 })).toBe(18);
    expect(await quoteImageCost(prices, { tenantId: 'default', modelId, size: '1024*1024', count: 2 })).toBe(10);
  });

  it('an unpriced model is NOT_FOUND', async () => {
    await expect(quoteChatCost(prices, { tenantId: 'default', modelId: 'no-such-model', inputTokens: 1, outputTokens: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(quoteImageCost(prices, { tenantId: 'default', modelId: 'no-such-model', size: '1024*1024', count: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
