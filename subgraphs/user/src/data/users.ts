import type { UserDb } from '@firefly/db';
import { createByIdLoader, keysetWhere, type Page } from '@firefly/server-kit';

const userSelect = {
  id: true,
  tenantId: true,
  displayName: true,
  email: true,
  phone: true,
  avatarUrl: true,
  roles: true,
  status: true,
  createdAt: true,
} as const;

export type UserRow = { id: string; tenantId: string; displayName: string; email: string | null; phone: string | null; avatarUrl: string | null; roles: string; status: 'ACTIVE' | 'SUSPENDED'; createdAt: Date };

/** Users of one tenant. Every query filters by the tenant, so another tenant's id finds nothing. */
export function createUserRepository(db: UserDb, tenantId: string) {
  return {
    findByIds(ids: readonly string[]): Promise<UserRow[]> {
      return db.user.findMany({ where: { tenantId, id: { in: [...ids] } }, select: userSelect });
    },
    /** Newest first; `query` matches display name, email or phone. */
    list(page: Page, query: string | null | undefined): Promise<UserRow[]> {
      const search = query?.trim();
      return db.user.findMany({
        where: {
          tenantId,
          ...keysetWhere(page.after, 'desc'),
          ...(search
            ? { AND: [{ OR: [{ displayName: { contains: search } }, { email: { contains: search } }, { phone: { contains: search } }] }] }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select: userSelect,
      });
    },
  };
}

export function createUserLoader(repository: ReturnType<typeof createUserRepository>) {
  return createByIdLoader(repository.findByIds);
}
