import type { TenantScoped, UserDb } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';

const select = { id: true, actor: true, action: true, targetType: true, targetId: true, details: true, createdAt: true } as const;

export type AuditEventRow = {
  id: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: string | null;
  createdAt: Date;
};

/** The tenant's audit log (appended by every subgraph through recordAudit; read only here). */
export function createAuditEventRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    /** Newest first, `take + 1` rows (toConnection); only `action`'s events when given. */
    list(page: Page, action: string | null | undefined): Promise<AuditEventRow[]> {
      return db.auditEvent.findMany({
        where: { tenantId, ...(action ? { action } : {}), ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select,
      });
    },
  };
}

export type AuditEventRepository = ReturnType<typeof createAuditEventRepository>;
