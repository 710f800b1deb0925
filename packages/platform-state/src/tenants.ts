/**
 * The tenants every gateway routes by: each tenant's status and host names, as the user subgraph shares them
 * (shared-state.ts, kind `tenants`). MySQL (Tenant, TenantHost) is the truth.
 */
export const TENANTS_STATE = 'tenants';

export type TenantStatus = 'ACTIVE' | 'SUSPENDED';

export interface TenantRoute {
  id: string;
  status: TenantStatus;
  /** Lower-case host names, without port. */
  hosts: string[];
}

/** What the gateway holds: host → tenant id, the tenants that are suspended, and every tenant there is. */
export interface TenantDirectory {
  byHost: ReadonlyMap<string, string>;
  suspended: ReadonlySet<string>;
  /** Every tenant MySQL knows (with a shared state loaded; empty before). */
  known: ReadonlySet<string>;
  /** Whether this is MySQL's list (read from the shared state), rather than the empty one held before any was. */
  loaded: boolean;
}

export const EMPTY_TENANT_DIRECTORY: TenantDirectory = { byHost: new Map(), suspended: new Set(), known: new Set(), loaded: false };

/** The shared form of the tenants (what the user subgraph writes to Redis). */
export function tenantDirectoryData(tenants: readonly TenantRoute[]): { tenants: TenantRoute[] } {
  return { tenants: tenants.map(({ id, status, hosts }) => ({ id, status, hosts: [...hosts] })) };
}

/** Reads the shared form back; throws on a shape it does not know. */
export function parseTenantDirectory(data: unknown): TenantDirectory {
  const tenants = (data as { tenants?: unknown } | null)?.tenants;
  if (!Array.isArray(tenants)) throw new Error('tenants: expected { tenants: [...] }');
  const byHost = new Map<string, string>();
  const suspended = new Set<string>();
  const known = new Set<string>();
  for (const entry of tenants as Array<Partial<TenantRoute>>) {
    if (typeof entry.id !== 'string' || (entry.status !== 'ACTIVE' && entry.status !== 'SUSPENDED') || !Array.isArray(entry.hosts)) {
      throw new Error('tenants: an entry is not { id, status, hosts }');
    }
    known.add(entry.id);
    if (entry.status === 'SUSPENDED') suspended.add(entry.id);
    for (const host of entry.hosts) if (typeof host === 'string') byHost.set(host, entry.id);
  }
  return { byHost, suspended, known, loaded: true };
}
