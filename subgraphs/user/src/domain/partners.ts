import { requireUser } from '@firefly/auth';
import { generatePartnerKey, generateSigningSecret } from '@firefly/auth/partner-keys';
import { badUserInput, notFound } from '@firefly/errors';
import { auditBy } from '@firefly/server-kit';
import type { GatewayKeyRow, PartnerKeyRow, PartnerRow, PartnerStatus } from '../data/partners.ts';
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

/** SUSPENDED: marker first, then the row (fail closed); ACTIVE: the row first, then the marker goes. */
export async function setPartnerStatus(scope: UserScope, input: { partnerId: string; status: PartnerStatus }): Promise<PartnerRow> {
  const me = requireUser(scope.identity).userId;
  const [existing] = await scope.partners.findByIds([input.partnerId]);
  if (!existing) throw notFound('Partner');
  const revocations = scope.services.partnerRevocations;
  if (input.status === 'SUSPENDED') await revocations.suspendPartner(existing.id);
  const partner = await scope.partners.setStatus(existing.id, input.status, { ...auditBy(scope), action: 'setPartnerStatus' });
  if (!partner) throw notFound('Partner');
  if (input.status === 'ACTIVE') await revocations.reactivatePartner(existing.id);
  scope.logger.info({ partnerId: partner.id, status: input.status, by: me }, 'partner status changed');
  return partner;
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
