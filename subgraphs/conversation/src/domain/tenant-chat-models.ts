import type { AuditActor } from '@firefly/db';
import { hiddenTenantModels, setTenantModel, type TenantModelAdmin, type TenantModelInput, type TenantModelRow } from '@firefly/server-kit';

export type TenantChatModelRow = TenantModelRow;

/** What setTenantChatModel needs (server-kit's tenant-catalog.ts has the rules; data/models.ts the table). */
export type TenantChatModelAdmin = TenantModelAdmin<AuditActor>;

/**
 * A platform admin hides a chat model from one tenant (or shows it again): hidden, it leaves the tenant's
 * `chatModels` and takes no new conversation or answer there (BAD_USER_INPUT, field `modelId`, as a deactivated
 * model); answers already reserved finish and are charged as usual. Other tenants are untouched. The tenant is
 * checked for its form only: overrides may be prepared before `createTenant`. Admins of other tenants: FORBIDDEN.
 */
export function setTenantChatModel(admin: TenantChatModelAdmin, by: AuditActor, input: TenantModelInput): Promise<TenantChatModelRow> {
  return setTenantModel('Chat model', admin, by, input);
}

/** TenantOverrides.hiddenChatModels: the chat models hidden from the tenant (ADMINs of the platform tenant only). */
export function hiddenChatModels(admin: TenantChatModelAdmin, caller: { tenantId: string }, tenantId: string): Promise<TenantChatModelRow[]> {
  return hiddenTenantModels(admin, caller, tenantId);
}
