import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../index.ts';
import {
  ANY_IMAGE_SIZE,
  CHAT_MODEL_IDS,
  DEFAULT_TENANT_ID,
  IMAGE_MODEL_IDS,
  PRODUCT_IDS,
  SEED_CHAT_MODELS,
  SEED_IMAGE_MODELS,
  SEED_PRODUCTS,
  seed,
} from '../seed.ts';
import { createScratchDatabase, type ScratchDatabase } from '../testing.ts';

describe('seed', () => {
  let scratch: ScratchDatabase;
  let db: Db;

  beforeAll(async () => {
    scratch = await createScratchDatabase('db_seed');
    db = createDb({ url: scratch.url, connectionLimit: 2 });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it('writes the catalog, prices and products, and is idempotent', async () => {
    await seed(db);
    await seed(db);
    expect(await db.tenant.findMany({ select: { id: true } })).toEqual([{ id: DEFAULT_TENANT_ID }]);
    expect((await db.chatModel.findMany({ orderBy: { sortOrder: 'asc' } })).map((m) => m.id)).toEqual(Object.values(CHAT_MODEL_IDS));
    expect(await db.chatPrice.count()).toBe(SEED_CHAT_MODELS.length);
    expect((await db.imageModel.findMany({ orderBy: { sortOrder: 'asc' } })).map((m) => m.id)).toEqual(Object.values(IMAGE_MODEL_IDS));
    expect(await db.imagePrice.findMany({ where: { size: { not: ANY_IMAGE_SIZE } } })).toEqual([]);
    expect(await db.imagePrice.count()).toBe(SEED_IMAGE_MODELS.length);
    const products = await db.product.findMany({ where: { tenantId: DEFAULT_TENANT_ID }, orderBy: { sortOrder: 'asc' } });
    expect(products.map((p) => [p.id, p.credits, p.priceFen])).toEqual([
      [PRODUCT_IDS.CREDITS_100, 100, 600],
      [PRODUCT_IDS.CREDITS_550, 550, 3000],
      [PRODUCT_IDS.CREDITS_1200, 1200, 6000],
      [PRODUCT_IDS.CREDITS_3000, 3000, 12800],
    ]);
  });

  it('prices chat by integer credits per 1k tokens, as specified', async () => {
    const prices = Object.fromEntries((await db.chatPrice.findMany()).map((p) => [p.modelId, [p.inputPer1kTokens, p.outputPer1kTokens]]));
    expect(prices).toEqual({ 'qwen-turbo': [1, 2], 'qwen-plus': [2, 6], 'qwen-max': [10, 30], 'qwen-long': [1, 2] });
    const turbo = await db.chatModel.findUniqueOrThrow({ where: { id: CHAT_MODEL_IDS.QWEN_TURBO } });
    expect(turbo.maxInputTokens).toBeGreaterThan(turbo.maxOutputTokens);
    expect(turbo.description).toMatch(/[\u4e00-\u9fff]/);
  });

  it('keeps operator changes unless asked to overwrite', async () => {
    await db.product.update({ where: { id: PRODUCT_IDS.CREDITS_100 }, data: { priceFen: 500 } });
    await seed(db);
    expect((await db.product.findUniqueOrThrow({ where: { id: PRODUCT_IDS.CREDITS_100 } })).priceFen).toBe(500);
    await seed(db, { overwrite: true });
    expect((await db.product.findUniqueOrThrow({ where: { id: PRODUCT_IDS.CREDITS_100 } })).priceFen).toBe(
      SEED_PRODUCTS[0]?.priceFen,
    );
  });
});
