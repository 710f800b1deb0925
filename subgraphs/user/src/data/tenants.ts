import type { UserDb } from '@firefly/db';

/**
 * Whether a tenant exists, cached for a minute per process: asked on every registration and SMS request, and
 * tenants are created by operators, not by traffic. An unknown tenant is not cached, so a new one works at once.
 */
export function createTenantLookup(db: UserDb, ttlMs = 60_000) {
  const known = new Map<string, number>();
  return async function tenantExists(tenantId: string): Promise<boolean> {
    const until = known.get(tenantId);
    if (until !== undefined && until > Date.now()) return true;
    const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { id: true } });
    if (row) known.set(tenantId, Date.now() + ttlMs);
    return row !== null;
  };
}
