import type { AuditActor } from '@firefly/db';
import { badUserInput, forbidden, notFound, requireIdentifier, requireInt, requireTenantId } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

/** Highest price an operator may set, as upsertChatModel / upsertImageModel allow. */
const MAX_PRICE = 1_000_000;

/** A tenant's own chat price for one model, in force since `validFrom`. */
export interface TenantChatPriceView {
  tenantId: string;
  modelId: string;
  inputPricePer1k: number;
  outputPricePer1k: number;
  validFrom: Date;
}

/** A tenant's own price per image (every size) for one image model, in force since `validFrom`. */
export interface TenantImagePriceView {
  tenantId: string;
  modelId: string;
  pricePerImage: number;
  validFrom: Date;
}

export interface TenantChatPriceInput {
  tenantId: string;
  modelId: string;
  inputPricePer1k?: number | null;
  outputPricePer1k?: number | null;
}

export interface TenantImagePriceInput {
  tenantId: string;
  modelId: string;
  pricePerImage?: number | null;
}

/** What the write answers: `null` when the model has no platform price (unknown), else the override now in force (null: none). */
export type SetOutcome<T> = { after: T | null } | null;

/** The tenants' price overrides (billing's TenantChatPriceVersion / TenantImagePriceVersion). */
export interface TenantPriceStore {
  /** Appends a version valid from `now` (null prices: the override ends) and its audit event, in one transaction. */
  setChatPrice(
    tenantId: string,
    modelId: string,
    price: { inputPer1kTokens: number; outputPer1kTokens: number } | null,
    now: Date,
    by: AuditActor,
  ): Promise<SetOutcome<TenantChatPriceView>>;
  setImagePrice(tenantId: string, modelId: string, perImage: number | null, now: Date, by: AuditActor): Promise<SetOutcome<TenantImagePriceView>>;
  /** The tenant's overrides in force now, by model id (ended ones left out). */
  chatPricesOf(tenantId: string): Promise<TenantChatPriceView[]>;
  imagePricesOf(tenantId: string): Promise<TenantImagePriceView[]>;
}

/** What setTenantChatPrice / setTenantImagePrice need. */
export interface TenantPriceAdmin {
  /** Whose admins may set any tenant's prices; its own prices are the platform's (upsertChatModel / upsertImageModel). */
  platformTenantId: string;
  store: TenantPriceStore;
  logger: Logger;
}

/** Only ADMINs of the platform tenant (the access directive has already required ADMIN). */
export function requirePlatformAdmin(admin: { platformTenantId: string }, by: { tenantId: string }): void {
  if (by.tenantId !== admin.platformTenantId) throw forbidden("A tenant's prices are set by admins of the platform tenant only");
}

function targetTenant(admin: TenantPriceAdmin, tenantId: string): string {
  const id = requireTenantId(tenantId);
  if (id === admin.platformTenantId) {
    throw badUserInput("The platform tenant pays the platform's prices: change them with upsertChatModel or upsertImageModel", { field: 'tenantId' });
  }
  return id;
}

/**
 * A platform admin gives one tenant its own price for a chat model (credits per 1,000 prompt and answer tokens), or
 * ends it (both prices null: the platform's price again). In force from now on for reservations made for the tenant's
 * users; a reservation made before keeps the price it was made at. Audited in the platform tenant.
 */
export async function setTenantChatPrice(admin: TenantPriceAdmin, by: AuditActor, input: TenantChatPriceInput): Promise<TenantChatPriceView | null> {
  requirePlatformAdmin(admin, by);
  const tenantId = targetTenant(admin, input.tenantId);
  const modelId = requireIdentifier(input.modelId, 'modelId');
  const inputPrice = input.inputPricePer1k ?? null;
  const outputPrice = input.outputPricePer1k ?? null;
  if ((inputPrice === null) !== (outputPrice === null)) {
    const field = inputPrice === null ? 'inputPricePer1k' : 'outputPricePer1k';
    throw badUserInput(`${field} is missing: give both prices, or neither to return the tenant to the platform's price`, { field });
  }
  const price =
    inputPrice === null || outputPrice === null
      ? null
      : { inputPer1kTokens: requireInt(inputPrice, 'inputPricePer1k', 0, MAX_PRICE), outputPer1kTokens: requireInt(outputPrice, 'outputPricePer1k', 0, MAX_PRICE) };
  const saved = await admin.store.setChatPrice(tenantId, modelId, price, new Date(), by);
  if (!saved) throw notFound('Chat model price', { field: 'modelId' });
  admin.logger.info({ tenantId, modelId, price, by: by.actor }, 'tenant chat price set');
  return saved.after;
}

/**
 * tenantOverrides(tenantId): the root of a tenant's departures from the platform (billing adds its prices; the
 * conversation and image subgraphs their hidden models, through the TenantOverrides entity). Platform admins only.
 */
export function tenantOverrides(admin: TenantPriceAdmin, by: { tenantId: string }, tenantId: string): { tenantId: string } {
  requirePlatformAdmin(admin, by);
  return { tenantId: requireTenantId(tenantId) };
}

/** As setTenantChatPrice, for an image model's price per image (every size); null ends the override. */
export async function setTenantImagePrice(admin: TenantPriceAdmin, by: AuditActor, input: TenantImagePriceInput): Promise<TenantImagePriceView | null> {
  requirePlatformAdmin(admin, by);
  const tenantId = targetTenant(admin, input.tenantId);
  const modelId = requireIdentifier(input.modelId, 'modelId');
  const perImage = input.pricePerImage == null ? null : requireInt(input.pricePerImage, 'pricePerImage', 0, MAX_PRICE);
  const saved = await admin.store.setImagePrice(tenantId, modelId, perImage, new Date(), by);
  if (!saved) throw notFound('Image model price', { field: 'modelId' });
  admin.logger.info({ tenantId, modelId, perImage, by: by.actor }, 'tenant image price set');
  return saved.after;
}
