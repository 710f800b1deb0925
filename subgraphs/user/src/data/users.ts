import { randomUUID } from 'node:crypto';
import { recordAudit, transact, type AuditActor, type TenantScoped, type UserDb } from '@firefly/db';
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

export interface NewUser {
  displayName: string;
  email: string | null;
  phone: string | null;
  /** argon2id hash, or null for a phone-only account without a password. */
  passwordHash: string | null;
}

/** What an update may change. */
export type UserChanges = { displayName?: string; avatarUrl?: string | null; roles?: string; status?: 'ACTIVE' | 'SUSPENDED' };

/** Users of one tenant. Every query filters by the tenant, so another tenant's id finds nothing. */
export function createUserRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    findByIds(ids: readonly string[]): Promise<UserRow[]> {
      return db.user.findMany({ where: { tenantId, id: { in: [...ids] } }, select: userSelect });
    },
    findById(id: string): Promise<UserRow | null> {
      return db.user.findFirst({ where: { tenantId, id }, select: userSelect });
    },
    findByEmail(email: string): Promise<UserRow | null> {
      return db.user.findFirst({ where: { tenantId, email }, select: userSelect });
    },
    findByPhone(phone: string): Promise<UserRow | null> {
      return db.user.findFirst({ where: { tenantId, phone }, select: userSelect });
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
    /**
     * Creates the user and its password credential in one transaction. Uniqueness of email and phone per tenant is
     * the database's job (`@@unique([tenantId, email])`, `@@unique([tenantId, phone])`): a duplicate rejects with
     * Prisma's unique-constraint error, which the caller turns into CONFLICT. No find-then-insert race. Two
     * registrations of one identifier can also deadlock on the unique index (both wait for the first's insert, then
     * both want the row): transact() runs the loser again, and its second try meets the duplicate key → CONFLICT.
     * Ids are made once, before the transaction, so a replay writes the same rows.
     */
    create(user: NewUser): Promise<UserRow> {
      const id = randomUUID();
      const credentialId = randomUUID();
      return transact(db, async (tx) => {
        const row = await tx.user.create({
          data: { id, tenantId, displayName: user.displayName, email: user.email, phone: user.phone, roles: 'USER' },
          select: userSelect,
        });
        if (user.passwordHash) {
          await tx.credential.create({ data: { id: credentialId, tenantId, userId: id, type: 'PASSWORD', secretHash: user.passwordHash } });
        }
        return row;
      });
    },
    async passwordHashOf(userId: string): Promise<string | null> {
      const row = await db.credential.findFirst({ where: { tenantId, userId, type: 'PASSWORD' }, select: { secretHash: true } });
      return row?.secretHash ?? null;
    },
    async setPasswordHash(userId: string, secretHash: string): Promise<void> {
      await db.credential.upsert({
        where: { userId_type: { userId, type: 'PASSWORD' } },
        create: { id: randomUUID(), tenantId, userId, type: 'PASSWORD', secretHash },
        update: { secretHash },
      });
    },
    /**
     * Changes the user; `null` when the tenant has none with this id. With `audit`, the audit event (the changed
     * fields before and after) is written in the same transaction as the change.
     */
    async update(id: string, data: UserChanges, audit?: AuditActor & { action: string }): Promise<UserRow | null> {
      if (!audit) {
        const { count } = await db.user.updateMany({ where: { tenantId, id }, data });
        if (count === 0) return null;
        return db.user.findFirst({ where: { tenantId, id }, select: userSelect });
      }
      return transact(db, async (tx) => {
        const before = await tx.user.findFirst({ where: { tenantId, id }, select: userSelect });
        if (!before) return null;
        await tx.user.updateMany({ where: { tenantId, id }, data });
        const after = (await tx.user.findFirst({ where: { tenantId, id }, select: userSelect }))!;
        const fields = Object.keys(data) as (keyof UserChanges)[];
        const pick = (row: UserRow) => Object.fromEntries(fields.map((field) => [field, row[field]]));
        await recordAudit(tx, { ...audit, targetType: 'User', targetId: id, details: { before: pick(before), after: pick(after) } });
        return after;
      });
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;

export function createUserLoader(repository: ReturnType<typeof createUserRepository>) {
  return createByIdLoader(repository.findByIds);
}
