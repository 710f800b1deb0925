import { randomUUID } from 'node:crypto';
import { isUniqueConstraintError, recordAudit, transact, type AuditActor, type TenantScoped, type UserDb } from '@firefly/db';
import { createByIdLoader, createGroupLoader, keysetWhere, type Page } from '@firefly/server-kit';

const partnerSelect = { id: true, tenantId: true, name: true, status: true, accountUserId: true, createdAt: true } as const;
const keySelect = {
  id: true,
  tenantId: true,
  partnerId: true,
  prefix: true,
  requireSignature: true,
  rateLimitPerMinute: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

export type PartnerStatus = 'ACTIVE' | 'SUSPENDED';
export type PartnerRow = { id: string; tenantId: string; name: string; status: PartnerStatus; accountUserId: string; createdAt: Date };
export type PartnerKeyRow = {
  id: string;
  tenantId: string;
  partnerId: string;
  prefix: string;
  requireSignature: boolean;
  rateLimitPerMinute: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

export interface NewPartnerKey {
  partnerId: string;
  prefix: string;
  keyHash: string;
  requireSignature: boolean;
  secretCiphertext: string | null;
  rateLimitPerMinute: number | null;
}

/** What the gateway needs to accept one key: the key's row with its hash and sealed secret, and its partner. */
export type GatewayKeyRow = PartnerKeyRow & {
  keyHash: string;
  secretCiphertext: string | null;
  partner: { status: PartnerStatus; accountUserId: string; account: { status: 'ACTIVE' | 'SUSPENDED' } };
};

export type PartnerActingAs = 'ACCOUNT' | 'USER';

/** Counts of one partner, UTC day, operation and identity kind (PartnerUsage). */
export interface PartnerUsageRow {
  day: Date;
  operationId: string;
  operationName: string;
  actingAs: PartnerActingAs;
  requests: number;
  errors: number;
}

/** Counts to add, as the gateway sends them (`day`: any time on the day). */
export type PartnerUsageIncrement = PartnerUsageRow & { partnerId: string };

/** Midnight UTC of the day `at` falls on. */
export function utcDayOf(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** Who changes partners: the audit event of every change is written in the change's transaction. */
type Audit = AuditActor & { action: string };

/** Partners of one tenant and their API keys. Every query filters by the tenant; every change is audited. */
export function createPartnerRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    findByIds(ids: readonly string[]): Promise<PartnerRow[]> {
      return db.partner.findMany({ where: { tenantId, id: { in: [...ids] } }, select: partnerSelect });
    },
    /** The partner whose own account this user is, if any. */
    findByAccount(userId: string): Promise<PartnerRow | null> {
      return db.partner.findFirst({ where: { tenantId, accountUserId: userId }, select: partnerSelect });
    },
    /** Newest first. */
    list(page: Page): Promise<PartnerRow[]> {
      return db.partner.findMany({
        where: { tenantId, ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select: partnerSelect,
      });
    },
    /**
     * The partner and its own account in one transaction: a user without credentials (it cannot sign in) whose
     * display name is the partner's. Ids are made before the transaction, so a replay writes the same rows.
     */
    create(name: string, audit: Audit): Promise<PartnerRow> {
      const id = randomUUID();
      const accountUserId = randomUUID();
      return transact(db, async (tx) => {
        await tx.user.create({ data: { id: accountUserId, tenantId, displayName: name, roles: 'USER' } });
        const partner = await tx.partner.create({ data: { id, tenantId, name, accountUserId }, select: partnerSelect });
        await recordAudit(tx, { ...audit, targetType: 'Partner', targetId: id, details: { after: { name, status: partner.status, accountUserId } } });
        return partner;
      });
    },
    setStatus(id: string, status: PartnerStatus, audit: Audit): Promise<PartnerRow | null> {
      return transact(db, async (tx) => {
        const before = await tx.partner.findFirst({ where: { tenantId, id }, select: partnerSelect });
        if (!before) return null;
        await tx.partner.updateMany({ where: { tenantId, id }, data: { status } });
        await recordAudit(tx, { ...audit, targetType: 'Partner', targetId: id, details: { before: { status: before.status }, after: { status } } });
        return { ...before, status };
      });
    },
    /** Every key of the partners, newest first (one query for a page of partners). */
    keysOf(partnerIds: readonly string[]): Promise<PartnerKeyRow[]> {
      return db.partnerApiKey.findMany({
        where: { tenantId, partnerId: { in: [...partnerIds] } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: keySelect,
      });
    },
    /** The audit event names the key by id and prefix; never the key, its hash or its secret. */
    createKey(key: NewPartnerKey, audit: Audit): Promise<PartnerKeyRow> {
      const id = randomUUID();
      return transact(db, async (tx) => {
        const row = await tx.partnerApiKey.create({ data: { id, tenantId, ...key }, select: keySelect });
        const { partnerId, prefix, requireSignature, rateLimitPerMinute } = row;
        await recordAudit(tx, { ...audit, targetType: 'PartnerApiKey', targetId: id, details: { after: { partnerId, prefix, requireSignature, rateLimitPerMinute } } });
        return row;
      });
    },
    findKey(id: string): Promise<PartnerKeyRow | null> {
      return db.partnerApiKey.findFirst({ where: { tenantId, id }, select: keySelect });
    },
    /** Sets revokedAt once: revoking a revoked key keeps its first revocation time (and audits nothing new). */
    revokeKey(id: string, audit: Audit): Promise<PartnerKeyRow | null> {
      return transact(db, async (tx) => {
        const revokedAt = new Date();
        const { count } = await tx.partnerApiKey.updateMany({ where: { tenantId, id, revokedAt: null }, data: { revokedAt } });
        const row = await tx.partnerApiKey.findFirst({ where: { tenantId, id }, select: keySelect });
        if (row && count > 0) {
          await recordAudit(tx, { ...audit, targetType: 'PartnerApiKey', targetId: id, details: { partnerId: row.partnerId, prefix: row.prefix, after: { revokedAt } } });
        }
        return row;
      });
    },
    keyForGateway(prefix: string): Promise<GatewayKeyRow | null> {
      return db.partnerApiKey.findFirst({
        where: { tenantId, prefix },
        select: { ...keySelect, keyHash: true, secretCiphertext: true, partner: { select: { status: true, accountUserId: true, account: { select: { status: true } } } } },
      });
    },
    /**
     * Adds the gateway's counts to PartnerUsage, one upsert per row (the counts are increments, so replicas adding
     * theirs in any order agree). Rows of partners outside this tenant are dropped. Two replicas creating the same row
     * at once: the loser's insert hits the primary key and adds its counts as an update instead.
     */
    async recordUsage(rows: readonly PartnerUsageIncrement[]): Promise<void> {
      const known = new Set((await db.partner.findMany({ where: { tenantId, id: { in: [...new Set(rows.map((row) => row.partnerId))] } }, select: { id: true } })).map((p) => p.id));
      for (const row of rows) {
        if (!known.has(row.partnerId)) continue;
        const day = utcDayOf(row.day);
        const where = { partnerId_day_operationId_actingAs: { partnerId: row.partnerId, day, operationId: row.operationId, actingAs: row.actingAs } };
        const add = { operationName: row.operationName, requests: { increment: row.requests }, errors: { increment: row.errors } };
        try {
          await db.partnerUsage.upsert({
            where,
            create: { tenantId, partnerId: row.partnerId, day, operationId: row.operationId, operationName: row.operationName, actingAs: row.actingAs, requests: row.requests, errors: row.errors },
            update: add,
          });
        } catch (error) {
          if (!isUniqueConstraintError(error)) throw error;
          await db.partnerUsage.update({ where, data: add });
        }
      }
    },
    /** A partner's counts from `since` (a UTC midnight) on, newest day first, then by operation name. */
    usageOf(partnerId: string, since: Date): Promise<PartnerUsageRow[]> {
      return db.partnerUsage.findMany({
        where: { tenantId, partnerId, day: { gte: since } },
        orderBy: [{ day: 'desc' }, { operationName: 'asc' }, { operationId: 'asc' }, { actingAs: 'asc' }],
        select: { day: true, operationId: true, operationName: true, actingAs: true, requests: true, errors: true },
      });
    },
    /** lastUsedAt moves forward only: a late batch from one replica never hides a newer use seen by another. */
    async recordUse(uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
      for (const use of uses) {
        await db.partnerApiKey.updateMany({ where: { tenantId, id: use.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: use.at } }] }, data: { lastUsedAt: use.at } });
      }
    },
  };
}

export type PartnerRepository = ReturnType<typeof createPartnerRepository>;

export function createPartnerLoaders(repository: PartnerRepository) {
  return {
    partner: createByIdLoader(repository.findByIds),
    /** Keys by partner id, newest first. */
    keys: createGroupLoader(repository.keysOf, (key) => key.partnerId),
  };
}
