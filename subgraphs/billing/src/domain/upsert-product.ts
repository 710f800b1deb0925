import { randomUUID } from 'node:crypto';
import { badUserInput, notFound } from '@firefly/errors';
import type { AuditActor } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { requireCredits, requireKey } from './validate.ts';

const MAX_NAME_LENGTH = 100;
/** 10,000,000 yuan: far above any credit pack, low enough to catch a typo by orders of magnitude. */
const MAX_PRICE_FEN = 1_000_000_000;

export interface Product {
  id: string;
  name: string;
  credits: number;
  priceFen: number;
  active: boolean;
}

/** What upsertProduct needs: the tenant's products and a way to tell every cache that the catalog changed. */
export interface ProductCatalogScope {
  products: {
    /** Each writes the audit event of the change in the change's transaction. */
    create(product: Product, by: AuditActor): Promise<Product>;
    update(id: string, changes: Omit<Product, 'id' | 'active'> & { active?: boolean }, by: AuditActor): Promise<Product | null>;
  };
  /** Marks cached catalog answers stale (the gateway's response cache); failures are logged, not thrown. */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

export interface UpsertProductInput {
  id?: string | null;
  name: string;
  credits: number;
  priceFen: number;
  active?: boolean | null;
  /** The admin making the change and their request, for the audit log. */
  by: AuditActor;
}

/** An ADMIN creates a credit pack (no id) or changes one of the tenant's; every cached catalog answer goes stale. */
export async function upsertProduct(scope: ProductCatalogScope, input: UpsertProductInput): Promise<Product> {
  const name = input.name.trim();
  if (name === '' || name.length > MAX_NAME_LENGTH) throw badUserInput(`name must be 1 to ${MAX_NAME_LENGTH} characters`, { field: 'name' });
  const credits = requireCredits(input.credits, 'credits', { allowZero: false });
  if (!Number.isSafeInteger(input.priceFen) || input.priceFen < 1 || input.priceFen > MAX_PRICE_FEN) {
    throw badUserInput(`priceFen must be a whole number from 1 to ${MAX_PRICE_FEN}`, { field: 'priceFen' });
  }
  const fields = { name, credits, priceFen: input.priceFen };

  let product: Product;
  if (input.id == null) {
    product = await scope.products.create({ id: randomUUID(), ...fields, active: input.active ?? true }, input.by);
  } else {
    const found = await scope.products.update(requireKey(input.id, 'id'), input.active == null ? fields : { ...fields, active: input.active }, input.by);
    if (!found) throw notFound('Product', { id: input.id });
    product = found;
  }
  scope.logger.info({ productId: product.id, active: product.active, by: input.by.actor }, input.id == null ? 'product created' : 'product changed');
  await scope.catalogChanged();
  return product;
}
