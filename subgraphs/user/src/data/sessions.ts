import type { UserDb } from '@firefly/db';

export function createSessionRepository(db: UserDb, tenantId: string) {
  return {
    /** The user's live sessions, most recently used first. */
    listActive(userId: string) {
      return db.session.findMany({
        where: { tenantId, userId, revokedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { lastUsedAt: 'desc' },
        select: { id: true, userId: true, userAgent: true, ip: true, createdAt: true, lastUsedAt: true },
      });
    },
  };
}
