// @firefly/db/seed: reference data every installation starts with (model catalog, prices, credit products of the
// default tenant). Tests and other packages import the ids below instead of repeating string literals.
import type { Db } from './client.ts';
import { DEFAULT_TENANT_ID } from './constants.ts';
import { isUniqueConstraintError } from './errors.ts';
import { transact } from './transaction.ts';
import type { DomainTx } from './views.ts';

export { DEFAULT_TENANT_ID };

export const CHAT_MODEL_IDS = {
  QWEN_TURBO: 'qwen-turbo',
  QWEN_PLUS: 'qwen-plus',
  QWEN_MAX: 'qwen-max',
  QWEN_LONG: 'qwen-long',
} as const;
export type SeedChatModelId = (typeof CHAT_MODEL_IDS)[keyof typeof CHAT_MODEL_IDS];

export const IMAGE_MODEL_IDS = {
  WANX21_T2I_TURBO: 'wanx2.1-t2i-turbo',
  WANX21_T2I_PLUS: 'wanx2.1-t2i-plus',
  WANX_V1: 'wanx-v1',
} as const;
export type SeedImageModelId = (typeof IMAGE_MODEL_IDS)[keyof typeof IMAGE_MODEL_IDS];

export const PRODUCT_IDS = {
  CREDITS_100: 'prod_credits_100',
  CREDITS_550: 'prod_credits_550',
  CREDITS_1200: 'prod_credits_1200',
  CREDITS_3000: 'prod_credits_3000',
} as const;
export type SeedProductId = (typeof PRODUCT_IDS)[keyof typeof PRODUCT_IDS];

/** The price row that applies to every size of an image model without a row of its own. */
export const ANY_IMAGE_SIZE = '*';

export interface SeedChatModel {
  id: SeedChatModelId;
  name: string;
  description: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  sortOrder: number;
  /** Credits per 1,000 input / output tokens. */
  inputPer1kTokens: number;
  outputPer1kTokens: number;
}

/** Token limits follow DashScope's published limits for each model's stable alias. */
export const SEED_CHAT_MODELS: readonly SeedChatModel[] = [
  {
    id: CHAT_MODEL_IDS.QWEN_TURBO,
    name: '通义千问 Turbo',
    description: '速度最快、成本最低，适合简单问答与日常任务。Qwen-Turbo: the fastest and cheapest Qwen, for simple questions and everyday tasks.',
    maxInputTokens: 1_000_000,
    maxOutputTokens: 8_192,
    sortOrder: 10,
    inputPer1kTokens: 1,
    outputPer1kTokens: 2,
  },
  {
    id: CHAT_MODEL_IDS.QWEN_PLUS,
    name: '通义千问 Plus',
    description: '效果、速度与成本均衡，适合中等复杂度的写作、分析与编程。Qwen-Plus: balanced quality, speed and cost for writing, analysis and coding.',
    maxInputTokens: 129_024,
    maxOutputTokens: 8_192,
    sortOrder: 20,
    inputPer1kTokens: 2,
    outputPer1kTokens: 6,
  },
  {
    id: CHAT_MODEL_IDS.QWEN_MAX,
    name: '通义千问 Max',
    description: '通义千问系列效果最好的模型，适合复杂、多步骤的推理任务。Qwen-Max: the most capable Qwen, for complex multi-step reasoning.',
    maxInputTokens: 30_720,
    maxOutputTokens: 8_192,
    sortOrder: 30,
    inputPer1kTokens: 10,
    outputPer1kTokens: 30,
  },
  {
    id: CHAT_MODEL_IDS.QWEN_LONG,
    name: '通义千问 Long',
    description: '超长上下文（最高一千万 Token），适合长文档总结与问答。Qwen-Long: very long context (up to 10M tokens) for summarising and querying long documents.',
    maxInputTokens: 10_000_000,
    maxOutputTokens: 8_192,
    sortOrder: 40,
    inputPer1kTokens: 1,
    outputPer1kTokens: 2,
  },
];

export interface SeedImageModel {
  id: SeedImageModelId;
  name: string;
  /** Comma-separated, as DashScope writes sizes. */
  sizes: string;
  maxCount: number;
  sortOrder: number;
  /** Credits per generated image (any size). */
  perImage: number;
}

const COMMON_IMAGE_SIZES = '1024*1024,720*1280,1280*720,768*1152';

export const SEED_IMAGE_MODELS: readonly SeedImageModel[] = [
  { id: IMAGE_MODEL_IDS.WANX21_T2I_TURBO, name: '通义万相 2.1 极速版', sizes: COMMON_IMAGE_SIZES, maxCount: 4, sortOrder: 10, perImage: 4 },
  { id: IMAGE_MODEL_IDS.WANX21_T2I_PLUS, name: '通义万相 2.1 专业版', sizes: COMMON_IMAGE_SIZES, maxCount: 4, sortOrder: 20, perImage: 6 },
  { id: IMAGE_MODEL_IDS.WANX_V1, name: '通义万相 V1', sizes: COMMON_IMAGE_SIZES, maxCount: 4, sortOrder: 30, perImage: 4 },
];

export interface SeedProduct {
  id: SeedProductId;
  name: string;
  credits: number;
  /** CNY in fen. */
  priceFen: number;
  sortOrder: number;
}

/** Credit packs of the default tenant; bigger packs are cheaper per credit. */
export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { id: PRODUCT_IDS.CREDITS_100, name: '100 积分', credits: 100, priceFen: 600, sortOrder: 10 },
  { id: PRODUCT_IDS.CREDITS_550, name: '550 积分', credits: 550, priceFen: 3_000, sortOrder: 20 },
  { id: PRODUCT_IDS.CREDITS_1200, name: '1200 积分', credits: 1_200, priceFen: 6_000, sortOrder: 30 },
  { id: PRODUCT_IDS.CREDITS_3000, name: '3000 积分', credits: 3_000, priceFen: 12_800, sortOrder: 40 },
];

export const DEFAULT_TENANT = { id: DEFAULT_TENANT_ID, slug: 'default', name: 'Firefly AI' } as const;

export interface SeedOptions {
  /**
   * Also reset rows that exist to the values above. Default false: existing rows are left as they are, so seeding
   * a live database never undoes an operator's price or catalog change.
   */
  overwrite?: boolean;
}

export interface SeedResult {
  chatModels: number;
  imageModels: number;
  products: number;
}

/**
 * How long the seed may take. It is about 40 round trips (each upsert reads, then inserts or updates) on one
 * connection; on a loaded machine that outlasted Prisma's default 5 s transaction timeout once, so the limits are
 * generous: seeding is rare, and a slow seed must finish rather than fail the start of a test run or a deployment.
 */
const SEED_TRANSACTION = { maxWait: 60_000, timeout: 120_000 } as const;

/** Tries in all when another process's seed inserted a row between our read and our insert (see {@link seed}). */
const SEED_ATTEMPTS = 3;

/**
 * Idempotent: every row is an upsert by its primary key, so running it again changes nothing. All rows are
 * written in one interactive transaction (through `transact`, so a deadlock or lock-wait timeout runs it again).
 * Two processes seeding the same empty database at once are safe too: Prisma's upsert reads before it inserts, so
 * the slower one can hit the other's freshly committed row as a unique-key violation; the whole seed then runs
 * again, and this time it finds the rows and updates (or leaves) them.
 */
export async function seed(db: Db, options: SeedOptions = {}): Promise<SeedResult> {
  const overwrite = options.overwrite ?? false;
  for (let attempt = 1; ; attempt++) {
    try {
      await transact(db, (tx) => writeSeed(tx, overwrite), SEED_TRANSACTION);
      break;
    } catch (error) {
      if (attempt >= SEED_ATTEMPTS || !isUniqueConstraintError(error)) throw error;
    }
  }
  return { chatModels: SEED_CHAT_MODELS.length, imageModels: SEED_IMAGE_MODELS.length, products: SEED_PRODUCTS.length };
}

type SeedTx = DomainTx<'tenant' | 'chatModel' | 'chatPrice' | 'imageModel' | 'imagePrice' | 'product'>;

/** The rows, written one after another on the transaction's connection (parents before children). */
async function writeSeed(tx: SeedTx, overwrite: boolean): Promise<void> {
  const when = <T extends object>(data: T): T | Record<string, never> => (overwrite ? data : {});

  await tx.tenant.upsert({
    where: { id: DEFAULT_TENANT.id },
    create: DEFAULT_TENANT,
    update: when({ slug: DEFAULT_TENANT.slug, name: DEFAULT_TENANT.name }),
  });
  for (const model of SEED_CHAT_MODELS) {
    const row = {
      name: model.name,
      description: model.description,
      maxInputTokens: model.maxInputTokens,
      maxOutputTokens: model.maxOutputTokens,
      sortOrder: model.sortOrder,
    };
    const price = { inputPer1kTokens: model.inputPer1kTokens, outputPer1kTokens: model.outputPer1kTokens };
    await tx.chatModel.upsert({ where: { id: model.id }, create: { id: model.id, ...row }, update: when(row) });
    await tx.chatPrice.upsert({ where: { modelId: model.id }, create: { modelId: model.id, ...price }, update: when(price) });
  }
  for (const model of SEED_IMAGE_MODELS) {
    const row = { name: model.name, sizes: model.sizes, maxCount: model.maxCount, sortOrder: model.sortOrder };
    const key = { modelId: model.id, size: ANY_IMAGE_SIZE };
    await tx.imageModel.upsert({ where: { id: model.id }, create: { id: model.id, ...row }, update: when(row) });
    await tx.imagePrice.upsert({
      where: { modelId_size: key },
      create: { ...key, perImage: model.perImage },
      update: when({ perImage: model.perImage }),
    });
  }
  for (const product of SEED_PRODUCTS) {
    const row = { name: product.name, credits: product.credits, priceFen: product.priceFen, sortOrder: product.sortOrder };
    await tx.product.upsert({
      where: { id: product.id },
      create: { id: product.id, tenantId: DEFAULT_TENANT_ID, ...row },
      update: when(row),
    });
  }
}
