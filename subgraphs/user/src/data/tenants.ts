import { recordAudit, transact, type AuditEntry, type UserDb, type UserTx } from '@firefly/db';
import { TENANTS_STATE, type SharedState, type TenantRoute, type TenantStatus } from '@firefly/platform-state';

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

export interface TenantRow {
  id: string;
  name: string;
  status: TenantStatus;
  hosts: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** The audit event of a change, without its target and details (the repository adds them). */
type Audit = Omit<AuditEntry, 'targetType' | 'targetId' | 'details'>;

const tenantSelect = { id: true, name: true, status: true, createdAt: true, updatedAt: true, hosts: { select: { host: true }, orderBy: { host: 'asc' } } } as const;

function rowOf(row: { id: string; name: string; status: TenantStatus; createdAt: Date; updatedAt: Date; hosts: Array<{ host: string }> }): TenantRow {
  return { id: row.id, name: row.name, status: row.status, createdAt: row.createdAt, updatedAt: row.updatedAt, hosts: row.hosts.map((h) => h.host) };
}

/** Every change of the tenants bumps their revision in its transaction (shared-state.ts of @firefly/platform-state). */
async function bumpRevision(tx: UserTx, kind: string): Promise<void> {
  await tx.stateRevision.upsert({ where: { kind }, create: { kind, revision: 1 }, update: { revision: { increment: 1 } } });
}

/** A kind's revision in MySQL (0 before any change). */
export async function stateRevisionOf(db: UserDb, kind: string): Promise<number> {
  return (await db.stateRevision.findUnique({ where: { kind }, select: { revision: true } }))?.revision ?? 0;
}

/**
 * The tenants, for platform admins: not tenant-scoped on purpose (the process-wide client; docs/architecture.md,
 * "Data ownership"). Every change is audited in the platform admin's tenant, in the change's transaction.
 */
export function createTenantRepository(db: UserDb) {
  return {
    async list(): Promise<TenantRow[]> {
      return (await db.tenant.findMany({ orderBy: { createdAt: 'asc' }, select: tenantSelect })).map(rowOf);
    },
    async find(id: string): Promise<TenantRow | null> {
      const row = await db.tenant.findUnique({ where: { id }, select: tenantSelect });
      return row ? rowOf(row) : null;
    },
    /** Throws Prisma's unique-constraint error when the id or one of the hosts is taken. */
    create(tenant: { id: string; name: string; hosts: string[] }, audit: Audit): Promise<TenantRow> {
      return transact(db, async (tx) => {
        await bumpRevision(tx, TENANTS_STATE);
        const row = await tx.tenant.create({
          data: { id: tenant.id, slug: tenant.id, name: tenant.name, hosts: { create: tenant.hosts.map((host) => ({ host })) } },
          select: tenantSelect,
        });
        await recordAudit(tx, { ...audit, targetType: 'Tenant', targetId: tenant.id, details: { after: { name: tenant.name, status: row.status, hosts: tenant.hosts } } });
        return rowOf(row);
      });
    },
    /** Replaces the tenant's hosts; `null` when there is no such tenant. Throws the unique error for another's host. */
    setHosts(id: string, hosts: string[], audit: Audit): Promise<TenantRow | null> {
      return transact(db, async (tx) => {
        // The tenant row first (the parent, locked), then its hosts.
        const locked = await tx.tenant.updateMany({ where: { id }, data: { updatedAt: new Date() } });
        if (locked.count === 0) return null;
        await bumpRevision(tx, TENANTS_STATE);
        const before = (await tx.tenantHost.findMany({ where: { tenantId: id }, select: { host: true }, orderBy: { host: 'asc' } })).map((h) => h.host);
        await tx.tenantHost.deleteMany({ where: { tenantId: id } });
        if (hosts.length > 0) await tx.tenantHost.createMany({ data: hosts.map((host) => ({ host, tenantId: id })) });
        await recordAudit(tx, { ...audit, targetType: 'Tenant', targetId: id, details: { before: { hosts: before }, after: { hosts } } });
        return rowOf((await tx.tenant.findUniqueOrThrow({ where: { id }, select: tenantSelect })));
      });
    },
    /** `null` when there is no such tenant. */
    setStatus(id: string, status: TenantStatus, audit: Audit): Promise<TenantRow | null> {
      return transact(db, async (tx) => {
        const before = await tx.tenant.findUnique({ where: { id }, select: { status: true } });
        if (!before) return null;
        await tx.tenant.update({ where: { id }, data: { status } });
        await bumpRevision(tx, TENANTS_STATE);
        await recordAudit(tx, { ...audit, targetType: 'Tenant', targetId: id, details: { before: { status: before.status }, after: { status } } });
        return rowOf(await tx.tenant.findUniqueOrThrow({ where: { id }, select: tenantSelect }));
      });
    },
  };
}

export type TenantRepository = ReturnType<typeof createTenantRepository>;

/**
 * The tenants as every gateway routes by them, at a revision: the revision is read first, so the state holds at
 * least every change up to it (a later change only makes it newer than its revision says, never older).
 */
export async function readTenantState(db: UserDb): Promise<SharedState<{ tenants: TenantRoute[] }>> {
  const revision = await stateRevisionOf(db, TENANTS_STATE);
  const rows = await db.tenant.findMany({ select: { id: true, status: true, hosts: { select: { host: true } } } });
  return { revision, data: { tenants: rows.map((row) => ({ id: row.id, status: row.status, hosts: row.hosts.map((h) => h.host) })) } };
}
