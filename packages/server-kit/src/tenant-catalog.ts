import { badUserInput, forbidden, notFound, requireIdentifier, requireTenantId } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

/** How one tenant's catalog departs from the platform's for one model (TenantChatModel, TenantImageModel). */
export interface TenantModelRow {
  tenantId: string;
  modelId: string;
  hidden: boolean;
  updatedAt: Date;
}

export interface TenantModelInput {
  tenantId: string;
  modelId: string;
  hidden: boolean;
}

/** Who acts, as auditBy gives it (the tenant is the credential's). */
interface Actor {
  tenantId: string;
  actor: string;
  requestId?: string | null;
}

/** What setTenantChatModel / setTenantImageModel need (each subgraph's own table). */
export interface TenantModelAdmin<A extends Actor = Actor> {
  /** Whose admins may change any tenant's catalog (the platform tenant). */
  platformTenantId: string;
  /** Writes the override and its audit event in one transaction; `null` when the model does not exist. */
  set(override: TenantModelInput, by: A): Promise<TenantModelRow | null>;
  /** The models hidden from a tenant. */
  listHidden(tenantId: string): Promise<TenantModelRow[]>;
  /** Marks cached catalog answers stale on every replica (failures are logged, not thrown). */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

/**
 * A platform admin hides one of the platform's models from one tenant, or shows it again (setTenantChatModel,
 * setTenantImageModel: each subgraph says what hidden means for its model). Other tenants are untouched. The tenant is
 * checked for its form only: overrides may be prepared before `createTenant`. Admins of other tenants: FORBIDDEN;
 * an unknown model: NOT_FOUND (`kind`, e.g. "Chat model").
 */
export async function setTenantModel<A extends Actor>(kind: string, admin: TenantModelAdmin<A>, by: A, input: TenantModelInput): Promise<TenantModelRow> {
  if (by.tenantId !== admin.platformTenantId) throw forbidden("A tenant's catalog is set by admins of the platform tenant only");
  const tenantId = requireTenantId(input.tenantId);
  const modelId = requireIdentifier(input.modelId, 'modelId');
  if (typeof input.hidden !== 'boolean') throw badUserInput('hidden must be true or false', { field: 'hidden' });
  const saved = await admin.set({ tenantId, modelId, hidden: input.hidden }, by);
  if (!saved) throw notFound(kind);
  admin.logger.info({ tenantId: saved.tenantId, modelId, hidden: saved.hidden, by: by.actor }, `tenant ${kind.toLowerCase()} set`);
  await admin.catalogChanged();
  return saved;
}

/** TenantOverrides.hiddenChatModels / hiddenImageModels: the models hidden from a tenant (ADMINs of the platform tenant only). */
export function hiddenTenantModels(admin: Pick<TenantModelAdmin, 'platformTenantId' | 'listHidden'>, caller: { tenantId: string }, tenantId: string): Promise<TenantModelRow[]> {
  if (caller.tenantId !== admin.platformTenantId) throw forbidden("A tenant's catalog is read by admins of the platform tenant only");
  return admin.listHidden(tenantId);
}
