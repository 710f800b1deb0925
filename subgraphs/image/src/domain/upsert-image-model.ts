import type { AuditActor } from '@firefly/db';
import { badUserInput, forbidden, requireIdentifier, requireInt, requireText } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

/** Highest price per image, in credits. */
const MAX_PRICE_PER_IMAGE = 1_000_000;
const MAX_COUNT = 16;
const MAX_SIZES = 20;
/** DashScope's way of writing a size: width*height in pixels. */
const SIZE = /^[1-9]\d{1,4}\*[1-9]\d{1,4}$/;

export interface ImageModelInput {
  id: string;
  name: string;
  sizes: readonly string[];
  maxCount: number;
  pricePerImage: number;
  active?: boolean | null;
}

export interface ImageModelView {
  id: string;
  name: string;
  sizes: string[];
  maxCount: number;
}

export interface NewImageModel extends ImageModelView {
  active: boolean | undefined;
}

/** What upsertImageModel needs. */
export interface ImageCatalogAdmin {
  /** Whose admins may change the platform-wide catalog (the platform tenant). */
  platformTenantId: string;
  /** Sets the price per image (billing, versioned); before the model row, so an active model always has a price. */
  setPrice(modelId: string, perImage: number): Promise<void>;
  /** Creates or changes the row and writes its audit event in the same transaction. */
  save(model: NewImageModel, by: AuditActor, details: Record<string, unknown>): Promise<ImageModelView>;
  /** Marks cached catalog answers stale on every replica (failures are logged, not thrown). */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

/**
 * An ADMIN of the platform tenant creates an image model (new id) or changes one: name, sizes, most images per job,
 * price per image (every size), active. An inactive model leaves `imageModels` and cannot take new jobs; jobs
 * already reserved are charged at the price in force when they were. Admins of other tenants: FORBIDDEN.
 */
export async function upsertImageModel(admin: ImageCatalogAdmin, by: AuditActor, input: ImageModelInput): Promise<ImageModelView> {
  if (by.tenantId !== admin.platformTenantId) throw forbidden('The image model catalog is shared by every tenant: only admins of the platform tenant may change it');
  const id = requireIdentifier(input.id, 'id');
  const name = requireText(input.name, 'name', 100);
  const sizes = [...new Set(input.sizes.map((size) => size.trim()))];
  if (sizes.length === 0 || sizes.length > MAX_SIZES || sizes.some((size) => !SIZE.test(size))) {
    throw badUserInput(`sizes must list 1 to ${MAX_SIZES} sizes written width*height, e.g. 1024*1024`, { field: 'sizes' });
  }
  const maxCount = requireInt(input.maxCount, 'maxCount', 1, MAX_COUNT);
  const pricePerImage = requireInt(input.pricePerImage, 'pricePerImage', 0, MAX_PRICE_PER_IMAGE);

  await admin.setPrice(id, pricePerImage);
  const saved = await admin.save({ id, name, sizes, maxCount, active: input.active ?? undefined }, by, { pricePerImage });
  admin.logger.info({ modelId: id, by: by.actor }, 'image model saved');
  await admin.catalogChanged();
  return saved;
}
