import type { AuditActor } from '@firefly/db';
import { badUserInput, forbidden, notFound, requireIdentifier, requireTenantId } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

export interface TenantChatModelRow {
  tenantId: string;
  modelId: string;
  hidden: boolean;
  updatedAt: Date;
}

export interface TenantChatModelInput {
  tenantId: string;
  modelId: string;
  hidden: boolean;
}

/** What setTenantChatModel needs. */
export interface TenantChatModelAdmin {
  /** Whose admins may change any tenant's catalog (the platform tenant). */
  platformTenantId: string;
  /** Writes the override and its audit event in one transaction; `null` when the model does not exist. */
  set(override: TenantChatModelInput, by: AuditActor): Promise<TenantChatModelRow | null>;
  /** The models hidden from a tenant. */
  listHidden(tenantId: string): Promise<TenantChatModelRow[]>;
  /** Marks cached catalog answers stale on every replica (failures are logged, not thrown). */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

/**
 * A platform admin hides a chat model from one tenant (or shows it again): hidden, it leaves the tenant's
 * `chatModels` and takes no new conversation or answer there (BAD_USER_INPUT, field `modelId`, as a deactivated
 * model); answers already reserved finish and are charged as usual. Other tenants are untouched. The tenant is
 * checked for its form only: overrides may be prepared before `createTenant`. Admins of other tenants: FORBIDDEN.
 */
export async function setTenantChatModel(admin: TenantChatModelAdmin, by: AuditActor, input: TenantChatModelInput): Promise<TenantChatModelRow> {
  if (by.tenantId !== admin.platformTenantId) throw forbidden("A tenant's catalog is set by admins of the platform tenant only");
  const tenantId = requireTenantId(input.tenantId);
  const modelId = requireIdentifier(input.modelId, 'modelId');
  if (typeof input.hidden !== 'boolean') throw badUserInput('hidden must be true or false', { field: 'hidden' });
  const saved = await admin.set({ tenantId, modelId, hidden: input.hidden }, by);
  if (!saved) throw notFound('Chat model');
  admin.logger.info({ tenantId: saved.tenantId, modelId, hidden: saved.hidden, by: by.actor }, 'tenant chat model set');
  await admin.catalogChanged();
  return saved;
}

/** TenantOverrides.hiddenChatModels: the chat models hidden from the tenant (ADMINs of the platform tenant only). */
export function hiddenChatModels(admin: TenantChatModelAdmin, caller: { tenantId: string }, tenantId: string): Promise<TenantChatModelRow[]> {
  if (caller.tenantId !== admin.platformTenantId) throw forbidden("A tenant's catalog is read by admins of the platform tenant only");
  return admin.listHidden(tenantId);
}
