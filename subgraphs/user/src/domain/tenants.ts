import { DEFAULT_TENANT_ID, isAdmin, requireUser } from '@firefly/auth';
import { isUniqueConstraintError } from '@firefly/db';
import { badUserInput, conflict, forbidden, notFound, requireText } from '@firefly/errors';
import { auditBy } from '@firefly/server-kit';
import type { TenantRow } from '../data/tenants.ts';
import type { UserScope } from './scope.ts';

/** The gateway's rule for a tenant id (gateway/src/modules/tenant.ts): lower-case letters, digits, '-'. */
const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A host name as the gateway compares it: lower case, no port, no trailing dot. */
const HOST = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const MAX_HOSTS = 20;

/**
 * Tenants are a platform matter: only ADMINs of the platform tenant (`default`) create, map and suspend them
 * (docs/operations.md, "Tenants"). An admin of any other tenant — or anyone else — is FORBIDDEN.
 */
function requirePlatformAdmin(scope: UserScope): void {
  requireUser(scope.identity);
  if (!isAdmin(scope.identity) || scope.tenantId !== DEFAULT_TENANT_ID) {
    throw forbidden('Tenants are managed by admins of the platform tenant only');
  }
}

function requireHosts(hosts: readonly string[]): string[] {
  const normalised = [...new Set(hosts.map((host) => host.trim().toLowerCase().replace(/\.$/, '')))];
  if (normalised.length > MAX_HOSTS) throw badUserInput(`A tenant has at most ${MAX_HOSTS} hosts`, { field: 'hosts' });
  for (const host of normalised) {
    if (!HOST.test(host)) throw badUserInput(`Not a host name (lower case, no scheme, port or path): ${host.slice(0, 80)}`, { field: 'hosts' });
  }
  return normalised.sort();
}

/** After a committed change: every process's copy follows at once (failures are logged; the sync job repairs). */
async function shareTenants(scope: UserScope): Promise<void> {
  await scope.services.platformState.shareTenants().catch((error: unknown) => {
    scope.logger.error({ err: error }, 'sharing the tenants with the gateways failed; the sync job will retry');
  });
}

const HOST_TAKEN = 'One of these hosts already belongs to another tenant';

export async function listTenants(scope: UserScope): Promise<TenantRow[]> {
  requirePlatformAdmin(scope);
  return scope.services.tenants.list();
}

export async function createTenant(scope: UserScope, input: { id: string; name: string; hosts?: readonly string[] | null }): Promise<TenantRow> {
  requirePlatformAdmin(scope);
  if (typeof input.id !== 'string' || !TENANT_ID.test(input.id)) {
    throw badUserInput('id must be 1 to 63 lower-case letters, digits or -, starting with a letter or digit', { field: 'id' });
  }
  const name = requireText(input.name, 'name', 100);
  const hosts = requireHosts(input.hosts ?? []);
  if (await scope.services.tenants.find(input.id)) throw conflict('A tenant with this id exists already', { field: 'id' });
  let tenant: TenantRow;
  try {
    tenant = await scope.services.tenants.create({ id: input.id, name, hosts }, { ...auditBy(scope), action: 'createTenant' });
  } catch (error) {
    if (isUniqueConstraintError(error)) throw conflict(`${HOST_TAKEN}, or the id is taken`, { field: 'hosts' });
    throw error;
  }
  scope.logger.info({ tenant: tenant.id, hosts: hosts.length }, 'tenant created');
  await shareTenants(scope);
  return tenant;
}

export async function setTenantHosts(scope: UserScope, input: { id: string; hosts: readonly string[] }): Promise<TenantRow> {
  requirePlatformAdmin(scope);
  const hosts = requireHosts(input.hosts);
  let tenant: TenantRow | null;
  try {
    tenant = await scope.services.tenants.setHosts(input.id, hosts, { ...auditBy(scope), action: 'setTenantHosts' });
  } catch (error) {
    if (isUniqueConstraintError(error)) throw conflict(HOST_TAKEN, { field: 'hosts' });
    throw error;
  }
  if (!tenant) throw notFound('Tenant');
  scope.logger.info({ tenant: tenant.id, hosts: hosts.length }, 'tenant hosts set');
  await shareTenants(scope);
  return tenant;
}

/**
 * SUSPENDED: every request of the tenant is refused at the gateway (FORBIDDEN) from the moment each replica has the
 * change (milliseconds; at most PLATFORM_STATE_RECHECK_MS); its data stays. ACTIVE lets it in again. The platform
 * tenant cannot be suspended (its admins would lock themselves out).
 */
export async function setTenantStatus(scope: UserScope, input: { id: string; status: 'ACTIVE' | 'SUSPENDED' }): Promise<TenantRow> {
  requirePlatformAdmin(scope);
  if (input.id === DEFAULT_TENANT_ID && input.status === 'SUSPENDED') throw badUserInput('The platform tenant cannot be suspended', { field: 'id' });
  const tenant = await scope.services.tenants.setStatus(input.id, input.status, { ...auditBy(scope), action: 'setTenantStatus' });
  if (!tenant) throw notFound('Tenant');
  scope.logger.info({ tenant: tenant.id, status: tenant.status }, 'tenant status set');
  await shareTenants(scope);
  return tenant;
}
