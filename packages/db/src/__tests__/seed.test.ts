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

  it('changes nothing when run again: every seeded row reads the same after a second seed', async () => {
    const snapshot = async () => ({
      tenants: await db.tenant.findMany({ orderBy: { id: 'asc' } }),
      chatModels: await db.chatModel.findMany({ orderBy: { id: 'asc' } }),
      chatPrices: await db.chatPrice.findMany({ orderBy: { modelId: 'asc' } }),
      imageModels: await db.imageModel.findMany({ orderBy: { id: 'asc' } }),
      imagePrices: await db.imagePrice.findMany({ orderBy: { modelId: 'asc' } }),
      products: await db.product.findMany({ orderBy: { id: 'asc' } }),
    });
    const before = await snapshot();
    await expect(seed(db)).resolves.toEqual({
      chatModels: SEED_CHAT_MODELS.length,
      imageModels: SEED_IMAGE_MODELS.length,
      products: SEED_PRODUCTS.length,
    });
    expect(await snapshot()).toEqual(before);
  });

  it('two processes seeding one empty database at once both succeed and leave one copy of every row', async () => {
    const fresh = await createScratchDatabase('db_seed_race');
    const clients = [createDb({ url: fresh.url, connectionLimit: 2 }), createDb({ url: fresh.url, connectionLimit: 2 })];
    try {
      const results = await Promise.allSettled(clients.map((client) => seed(client)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      const [first] = clients;
      if (!first) throw new Error('no client');
      expect(await first.tenant.count()).toBe(1);
      expect(await first.chatModel.count()).toBe(SEED_CHAT_MODELS.length);
      expect(await first.chatPrice.count()).toBe(SEED_CHAT_MODELS.length);
      expect(await first.imageModel.count()).toBe(SEED_IMAGE_MODELS.length);
      expect(await first.imagePrice.count()).toBe(SEED_IMAGE_MODELS.length);
      expect(await first.product.count()).toBe(SEED_PRODUCTS.length);
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
      await fresh.drop();
    }
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
