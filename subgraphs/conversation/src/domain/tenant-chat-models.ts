import type { AuditActor } from '@firefly/db';
import { badUserInput, forbidden, notFound, requireIdentifier } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

/** The gateway's rule for a tenant id (gateway/src/modules/tenant.ts): lower-case letters, digits, '-'. */
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

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
  if (typeof input.tenantId !== 'string' || !TENANT_ID.test(input.tenantId)) {
    throw badUserInput('tenantId must be 1 to 63 lower-case letters, digits or -, starting with a letter or digit', { field: 'tenantId' });
  }
  const modelId = requireIdentifier(input.modelId, 'modelId');
  if (typeof input.hidden !== 'boolean') throw badUserInput('hidden must be true or false', { field: 'hidden' });
  const saved = await admin.set({ tenantId: input.tenantId, modelId, hidden: input.hidden }, by);
  if (!saved) throw notFound('Chat model');
  admin.logger.info({ tenantId: saved.tenantId, modelId, hidden: saved.hidden, by: by.actor }, 'tenant chat model set');
  await admin.catalogChanged();
  return saved;
}
