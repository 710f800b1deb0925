import { randomUUID } from 'node:crypto';
import { recordAudit, transact, type AuditActor, type TenantScoped, type UserDb } from '@firefly/db';
import { createByIdLoader, keysetWhere, type Page } from '@firefly/server-kit';
import { parseEmail, parsePhone } from '../domain/identifiers.ts';
import type { UserPii } from './user-pii.ts';

/** What a query reads of a user: the sealed contact columns (and the legacy clear ones), opened by `toUserRow`. */
const userSelect = {
  id: true,
  tenantId: true,
  displayName: true,
  email: true,
  phone: true,
  emailCiphertext: true,
  phoneCiphertext: true,
  avatarUrl: true,
  roles: true,
  status: true,
  createdAt: true,
} as const;

/** A user with its email and phone in clear (opened from the sealed columns): in memory only, never stored so. */
export type UserRow = { id: string; tenantId: string; displayName: string; email: string | null; phone: string | null; avatarUrl: string | null; roles: string; status: 'ACTIVE' | 'SUSPENDED'; createdAt: Date };

type StoredUser = Omit<UserRow, 'email' | 'phone'> & { email: string | null; phone: string | null; emailCiphertext: string | null; phoneCiphertext: string | null };

/**
 * Registration met an email or phone already held by a row older than PII encryption (clear columns, not yet
 * sealed by `npm run pii:encrypt`): the blind-index unique keys cannot see those, so the repository checks.
 */
export class DuplicateContactError extends Error {
  constructor() {
    super('email or phone already registered');
    this.name = 'DuplicateContactError';
  }
}

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
/**
 * Users of one tenant. Every query filters by the tenant, so another tenant's id finds nothing. Emails and phones
 * are stored sealed (`pii`, data/user-pii.ts) and found by exact value through their blind indexes; rows written
 * before PII encryption and not yet sealed by `npm run pii:encrypt` are still found by their clear columns (both
 * lookups are unique-index lookups in one query). That fallback goes when a later release drops the clear columns.
 */
export function createUserRepository(db: TenantScoped<UserDb>, tenantId: string, pii: UserPii) {
  const toUserRow = (stored: StoredUser | null): UserRow | null => {
    if (!stored) return null;
    const { emailCiphertext: _e, phoneCiphertext: _p, ...row } = stored;
    return { ...row, ...pii.open(stored) };
  };
  const toUserRows = (stored: StoredUser[]): UserRow[] => stored.map((row) => toUserRow(row)!);
  const byEmail = (email: string) => [{ emailIndex: pii.emailIndex(tenantId, email) }, { email }];
  const byPhone = (phone: string) => [{ phoneIndex: pii.phoneIndex(tenantId, phone) }, { phone }];

  return {
    async findByIds(ids: readonly string[]): Promise<UserRow[]> {
      return toUserRows(await db.user.findMany({ where: { tenantId, id: { in: [...ids] } }, select: userSelect }));
    },
    async findById(id: string): Promise<UserRow | null> {
      return toUserRow(await db.user.findFirst({ where: { tenantId, id }, select: userSelect }));
    },
    /** By the normalized (lower-cased) email. */
    async findByEmail(email: string): Promise<UserRow | null> {
      return toUserRow(await db.user.findFirst({ where: { tenantId, OR: byEmail(email) }, select: userSelect }));
    },
    /** By the 11-digit phone. */
    async findByPhone(phone: string): Promise<UserRow | null> {
      return toUserRow(await db.user.findFirst({ where: { tenantId, OR: byPhone(phone) }, select: userSelect }));
    },
    /**
     * Newest first. `query` matches a part of the display name, or a whole email or phone number (any way of
     * writing it that registration accepts): sealed values cannot be searched by substring, only found by their
     * blind index.
     */
    async list(page: Page, query: string | null | undefined): Promise<UserRow[]> {
      const search = query?.trim();
      const email = search?.includes('@') ? parseEmail(search) : null;
      const phone = search ? parsePhone(search) : null;
      const rows = await db.user.findMany({
        where: {
          tenantId,
          ...keysetWhere(page.after, 'desc'),
          ...(search
            ? { AND: [{ OR: [{ displayName: { contains: search } }, ...(email ? byEmail(email) : []), ...(phone ? byPhone(phone) : [])] }] }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select: userSelect,
      });
      return toUserRows(rows);
    },
    /**
     * Creates the user and its password credential in one transaction, the email and phone sealed (never in the
     * clear columns). Uniqueness of email and phone per tenant is the database's job (`@@unique([tenantId,
     * emailIndex])`, `@@unique([tenantId, phoneIndex])` on the blind indexes): a duplicate rejects with Prisma's
     * unique-constraint error, which the caller turns into CONFLICT. No find-then-insert race. Two registrations of
     * one identifier can also deadlock on the unique index (both wait for the first's insert, then both want the
     * row): transact() runs the loser again, and its second try meets the duplicate key → CONFLICT. A row not yet
     * sealed holds its value in a clear column the blind index cannot see: checked first ({@link
     * DuplicateContactError}); `pii:encrypt` seals a row in one UPDATE, so the row is always visible to one check
     * or the other. Ids and the sealed values are made once, before the transaction, so a replay writes the same rows.
     */
    async create(user: NewUser): Promise<UserRow> {
      const id = randomUUID();
      const credentialId = randomUUID();
      const sealed = pii.seal(tenantId, id, { email: user.email, phone: user.phone });
      const stored = await transact(db, async (tx) => {
        const legacy = [...(user.email ? [{ email: user.email }] : []), ...(user.phone ? [{ phone: user.phone }] : [])];
        if (legacy.length > 0 && (await tx.user.findFirst({ where: { tenantId, OR: legacy }, select: { id: true } }))) throw new DuplicateContactError();
        const row = await tx.user.create({ data: { id, tenantId, displayName: user.displayName, ...sealed, roles: 'USER' }, select: userSelect });
        if (user.passwordHash) {
          await tx.credential.create({ data: { id: credentialId, tenantId, userId: id, type: 'PASSWORD', secretHash: user.passwordHash } });
        }
        return row;
      });
      return { ...toUserRow(stored)!, email: user.email, phone: user.phone };
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
        return toUserRow(await db.user.findFirst({ where: { tenantId, id }, select: userSelect }));
      }
      const after = await transact(db, async (tx) => {
        const before = await tx.user.findFirst({ where: { tenantId, id }, select: userSelect });
        if (!before) return null;
        await tx.user.updateMany({ where: { tenantId, id }, data });
        const after = (await tx.user.findFirst({ where: { tenantId, id }, select: userSelect }))!;
        // Only the changed fields (never the email or phone, which no update changes) go into the audit event.
        const fields = Object.keys(data) as (keyof UserChanges)[];
        const pick = (row: StoredUser) => Object.fromEntries(fields.map((field) => [field, row[field]]));
        await recordAudit(tx, { ...audit, targetType: 'User', targetId: id, details: { before: pick(before), after: pick(after) } });
        return after;
      });
      return toUserRow(after);
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;

export function createUserLoader(repository: ReturnType<typeof createUserRepository>) {
  return createByIdLoader(repository.findByIds);
}
