import type { AuditActor } from '@firefly/db';
import { hiddenTenantModels, setTenantModel, type TenantModelAdmin, type TenantModelInput, type TenantModelRow } from '@firefly/server-kit';

export type TenantImageModelRow = TenantModelRow;

/** What setTenantImageModel needs (server-kit's tenant-catalog.ts has the rules; data/images.ts the table). */
export type TenantImageModelAdmin = TenantModelAdmin<AuditActor>;

/**
 * A platform admin hides an image model from one tenant (or shows it again): hidden, it leaves the tenant's
 * `imageModels` and takes no new image job there (BAD_USER_INPUT, field `model`, as a deactivated model); jobs
 * already created finish and are charged as usual. Other tenants are untouched. The tenant is checked for its form
 * only: overrides may be prepared before `createTenant`. Admins of other tenants: FORBIDDEN.
 */
export function setTenantImageModel(admin: TenantImageModelAdmin, by: AuditActor, input: TenantModelInput): Promise<TenantImageModelRow> {
  return setTenantModel('Image model', admin, by, input);
}

/** TenantOverrides.hiddenImageModels: the image models hidden from the tenant (ADMINs of the platform tenant only). */
export function hiddenImageModels(admin: TenantImageModelAdmin, caller: { tenantId: string }, tenantId: string): Promise<TenantImageModelRow[]> {
  return hiddenTenantModels(admin, caller, tenantId);
}
