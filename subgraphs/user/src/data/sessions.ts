import { recordAudit, transact, type AuditEntry, type TenantScoped, type UserDb } from '@firefly/db';

export interface NewSession {
  id: string;
  userId: string;
  refreshTokenHash: string;
  userAgent: string | null;
  ip: string | null;
  expiresAt: Date;
}

const sessionSelect = { id: true, userId: true, generation: true, expiresAt: true, revokedAt: true } as const;

export function createSessionRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    /** The user's live sessions, most recently used first. */
    listActive(userId: string) {
      return db.session.findMany({
        where: { tenantId, userId, revokedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { lastUsedAt: 'desc' },
        select: { id: true, userId: true, userAgent: true, ip: true, createdAt: true, lastUsedAt: true },
      });
    },
    /** Creates the session; with `audit`, its audit event (the sign-in) in the same transaction. */
    async create(session: NewSession, audit?: AuditEntry): Promise<void> {
      if (!audit) {
        await db.session.create({ data: { ...session, tenantId } });
        return;
      }
      await transact(db, async (tx) => {
        await tx.session.create({ data: { ...session, tenantId } });
        await recordAudit(tx, audit);
      });
    },
    /** Appends an audit event (revocations, after they happened). */
    audit: (entry: AuditEntry): Promise<void> => recordAudit(db, entry),
    findByRefreshHash(refreshTokenHash: string) {
      return db.session.findFirst({ where: { tenantId, refreshTokenHash }, select: sessionSelect });
    },
    findById(id: string) {
      return db.session.findFirst({ where: { tenantId, id }, select: sessionSelect });
    },
    /**
     * Replaces the refresh token hash only if it is still the one presented: of two concurrent refreshes with the
     * same token exactly one wins (count 1); the other sees 0 and is treated as a reuse.
     */
    async rotate(id: string, fromHash: string, to: { refreshTokenHash: string; expiresAt: Date; ip: string | null; userAgent: string | null }): Promise<boolean> {
      const { count } = await db.session.updateMany({
        where: { tenantId, id, refreshTokenHash: fromHash, revokedAt: null },
        data: { refreshTokenHash: to.refreshTokenHash, expiresAt: to.expiresAt, lastUsedAt: new Date(), generation: { increment: 1 }, ...(to.ip ? { ip: to.ip } : {}), ...(to.userAgent ? { userAgent: to.userAgent } : {}) },
      });
      return count === 1;
    },
    /** Marks sessions revoked; returns the ids that were live. `userId` scopes a user's own revocation. */
    async revoke(where: { id?: string; userId?: string; exceptId?: string }, reason: string): Promise<string[]> {
      const filter = {
        tenantId,
        revokedAt: null,
        ...(where.id ? { id: where.id } : {}),
        ...(where.userId ? { userId: where.userId } : {}),
        ...(where.exceptId ? { NOT: { id: where.exceptId } } : {}),
      };
      const rows = await db.session.findMany({ where: filter, select: { id: true } });
      if (rows.length === 0) return [];
      await db.session.updateMany({ where: { ...filter, id: { in: rows.map((r) => r.id) } }, data: { revokedAt: new Date(), revokedReason: reason } });
      return rows.map((r) => r.id);
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
