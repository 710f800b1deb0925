import { requireUser } from '@firefly/auth';
import { createPartnerRevocations, generatePartnerKey, generateSigningSecret } from '@firefly/auth/partner-keys';
import type { UserDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { badUserInput, notFound } from '@firefly/errors';
import { auditBy } from '@firefly/server-kit';
import { utcDayOf, type GatewayKeyRow, type PartnerKeyRow, type PartnerRow, type PartnerStatus, type PartnerUsageIncrement, type PartnerUsageRow } from '../data/partners.ts';
import type { UserScope } from './scope.ts';

const MAX_NAME_LENGTH = 100;
const MAX_RATE_LIMIT_PER_MINUTE = 100_000;

/** Creates the partner and its own account (a user without credentials, so nobody signs in as it). */
export async function createPartner(scope: UserScope, input: { name: string }): Promise<PartnerRow> {
  const me = requireUser(scope.identity).userId;
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw badUserInput(`name must be 1–${MAX_NAME_LENGTH} characters`, { field: 'name' });
  const partner = await scope.partners.create(name, { ...auditBy(scope), action: 'createPartner' });
  scope.logger.info({ partnerId: partner.id, accountUserId: partner.accountUserId, by: me }, 'partner created');
  return partner;
}

export interface CreatedPartnerKey {
  apiKey: PartnerKeyRow;
  key: string;
  secret: string | null;
}

/** A random key, shown only in this answer; stored as its prefix and sha256 (and the sealed signing secret). */
export async function createPartnerApiKey(
  scope: UserScope,
  input: { partnerId: string; requireSignature?: boolean | null; rateLimitPerMinute?: number | null },
): Promise<CreatedPartnerKey> {
  const me = requireUser(scope.identity).userId;
  const rate = input.rateLimitPerMinute ?? null;
  if (rate !== null && (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE_LIMIT_PER_MINUTE)) {
    throw badUserInput(`rateLimitPerMinute must be between 1 and ${MAX_RATE_LIMIT_PER_MINUTE}`, { field: 'rateLimitPerMinute' });
  }
  const [partner] = await scope.partners.findByIds([input.partnerId]);
  if (!partner) throw notFound('Partner');
  const requireSignature = input.requireSignature ?? false;
  const { key, prefix, keyHash } = generatePartnerKey();
  const secret = requireSignature ? generateSigningSecret() : null;
  const apiKey = await scope.partners.createKey({
    partnerId: partner.id,
    prefix,
    keyHash,
    requireSignature,
    secretCiphertext: secret ? scope.services.secretBox.seal(secret) : null,
    rateLimitPerMinute: rate,
  }, { ...auditBy(scope), action: 'createPartnerApiKey' });
  scope.logger.info({ partnerId: partner.id, apiKeyId: apiKey.id, prefix, requireSignature, by: me }, 'partner API key created');
  return { apiKey, key, secret };
}

/**
 * The Redis marker first, then the row: once this answers, every gateway replica refuses the key; a failure in
 * between leaves the key refused (fail closed) and the admin can simply revoke again.
 */
export async function revokePartnerApiKey(scope: UserScope, id: string): Promise<PartnerKeyRow> {
  const me = requireUser(scope.identity).userId;
  const existing = await scope.partners.findKey(id);
  if (!existing) throw notFound('PartnerApiKey');
  await scope.services.partnerRevocations.revokeKey(existing.id);
  const key = await scope.partners.revokeKey(existing.id, { ...auditBy(scope), action: 'revokePartnerApiKey' });
  if (!key) throw notFound('PartnerApiKey');
  scope.logger.info({ partnerId: key.partnerId, apiKeyId: key.id, by: me }, 'partner API key revoked');
  return key;
}

/**
 * SUSPENDED: marker first, then the row (fail closed: Redis failing refuses the change, nothing is suspended half).
 * ACTIVE: the row first, then the marker goes; when Redis fails in between, the reactivation stands (MySQL decides)
 * and the reconciliation job removes the marker once Redis answers (syncPartnerMarkers), so the keys are refused a
 * little longer, never accepted too early.
 */
export async function setPartnerStatus(scope: UserScope, input: { partnerId: string; status: PartnerStatus }): Promise<PartnerRow> {
  const me = requireUser(scope.identity).userId;
  const [existing] = await scope.partners.findByIds([input.partnerId]);
  if (!existing) throw notFound('Partner');
  const revocations = scope.services.partnerRevocations;
  if (input.status === 'SUSPENDED') await revocations.suspendPartner(existing.id);
  const partner = await scope.partners.setStatus(existing.id, input.status, { ...auditBy(scope), action: 'setPartnerStatus' });
  if (!partner) throw notFound('Partner');
  if (input.status === 'ACTIVE') {
    await revocations.reactivatePartner(existing.id).catch((error: unknown) => {
      scope.logger.error({ err: error, partnerId: existing.id }, 'partner reactivated but its suspension marker is still in Redis; the marker sync job removes it');
    });
  }
  scope.logger.info({ partnerId: partner.id, status: input.status, by: me }, 'partner status changed');
  return partner;
}

/**
 * setUserStatus of a partner's own account: its keys act as that account, which has no session to revoke, so a
 * suspended account's keys are refused like a suspended partner's — the same marker, written before the account is
 * suspended (a Redis failure refuses the suspension whole) and checked by every gateway replica on every request.
 * Reactivating the account removes the marker unless the partner itself is SUSPENDED. Nothing for other users.
 */
export async function beforeAccountStatusChange(scope: UserScope, userId: string, status: 'ACTIVE' | 'SUSPENDED'): Promise<(() => Promise<void>) | undefined> {
  const partner = await scope.partners.findByAccount(userId);
  if (!partner) return undefined;
  const revocations = scope.services.partnerRevocations;
  if (status === 'SUSPENDED') {
    await revocations.suspendPartner(partner.id);
    return undefined;
  }
  if (partner.status === 'SUSPENDED') return undefined;
  return () =>
    revocations.reactivatePartner(partner.id).catch((error: unknown) => {
      scope.logger.error({ err: error, partnerId: partner.id }, "partner account reactivated but its partner's suspension marker is still in Redis; the marker sync job removes it");
    });
}

export interface GatewayPartnerKey {
  id: string;
  partnerId: string;
  accountUserId: string;
  keyHash: string;
  requireSignature: boolean;
  secret: string | null;
  rateLimitPerMinute: number | null;
  active: boolean;
}

/** The key with this prefix in the request's tenant, for the gateway (service credential only). */
export async function partnerKeyForGateway(scope: UserScope, prefix: string): Promise<GatewayPartnerKey | null> {
  const row: GatewayKeyRow | null = await scope.partners.keyForGateway(prefix);
  if (!row) return null;
  return {
    id: row.id,
    partnerId: row.partnerId,
    accountUserId: row.partner.accountUserId,
    keyHash: row.keyHash,
    requireSignature: row.requireSignature,
    secret: row.secretCiphertext ? scope.services.secretBox.open(row.secretCiphertext) : null,
    rateLimitPerMinute: row.rateLimitPerMinute,
    // A suspended account stops its partner's key-only requests too (within the gateway's key cache time).
    active: row.revokedAt === null && row.partner.status === 'ACTIVE' && row.partner.account.status === 'ACTIVE',
  };
}

const MAX_USAGE_DAYS = 90;
/** Names longer than the column are cut (a listed operation's name is a GraphQL name, normally far shorter). */
const MAX_OPERATION_NAME = 128;
const OPERATION_ID = /^[0-9a-f]{64}$/;

/** Partner.usage: the last `days` UTC days, today included (ADMIN, like every Partner field). */
export async function partnerUsage(scope: UserScope, partner: PartnerRow, days: number | null | undefined): Promise<PartnerUsageRow[]> {
  const span = days ?? 7;
  if (!Number.isInteger(span) || span < 1 || span > MAX_USAGE_DAYS) throw badUserInput(`days must be between 1 and ${MAX_USAGE_DAYS}`, { field: 'days' });
  const since = utcDayOf(new Date(Date.now() - (span - 1) * 86_400_000));
  return scope.partners.usageOf(partner.id, since);
}

/** recordPartnerUsage (service credential only): malformed rows are refused whole, so a bug shows instead of hiding. */
export async function recordPartnerUsage(scope: UserScope, rows: readonly PartnerUsageIncrement[]): Promise<void> {
  for (const [index, row] of rows.entries()) {
    const field = `usage[${index}]`;
    if (!OPERATION_ID.test(row.operationId)) throw badUserInput('operationId must be a hex sha256', { field: `${field}.operationId` });
    if (!Number.isInteger(row.requests) || row.requests < 1 || !Number.isInteger(row.errors) || row.errors < 0 || row.errors > row.requests) {
      throw badUserInput('requests must be at least 1 and errors between 0 and requests', { field });
    }
    if (Number.isNaN(row.day.getTime())) throw badUserInput('day must be a time', { field: `${field}.day` });
  }
  await scope.partners.recordUsage(rows.map((row) => ({ ...row, operationName: row.operationName.slice(0, MAX_OPERATION_NAME) || 'anonymous' })));
}

/** Revoked keys older than this have no marker to restore (the markers' own lifetime, 7 days). */
const REVOKED_MARKER_WINDOW_MS = 7 * 86_400_000;

/**
 * The reconciliation of the revocation/suspension markers with MySQL, every tenant at once (the sync job): markers
 * missing for keys revoked in the last 7 days or for suspended partners are written again, and the suspension marker
 * of a partner reactivated after it was written is removed. Partners are few (organisations, not users), so every
 * partner row is read. Returns how many markers changed.
 */
export async function syncPartnerMarkers(db: UserDb, redis: Redis, logger: Logger): Promise<number> {
  const [revokedKeys, partners] = await Promise.all([
    db.partnerApiKey.findMany({ where: { revokedAt: { gte: new Date(Date.now() - REVOKED_MARKER_WINDOW_MS) } }, select: { id: true, revokedAt: true } }),
    db.partner.findMany({ select: { id: true, status: true, updatedAt: true, account: { select: { status: true, updatedAt: true } } } }),
  ]);
  const { written, removed } = await createPartnerRevocations(redis).reconcile({
    revokedKeys: revokedKeys.map((key) => ({ id: key.id, revokedAt: key.revokedAt! })),
    // A suspended account stops its partner's keys like a suspended partner (beforeAccountStatusChange).
    partners: partners.map((partner) => ({
      id: partner.id,
      status: partner.status === 'SUSPENDED' || partner.account.status === 'SUSPENDED' ? 'SUSPENDED' : 'ACTIVE',
      updatedAt: new Date(Math.max(partner.updatedAt.getTime(), partner.account.updatedAt.getTime())),
    })),
  });
  if (written + removed > 0) logger.warn({ written, removed }, 'partner revocation/suspension markers brought in line with MySQL');
  return written + removed;
}
