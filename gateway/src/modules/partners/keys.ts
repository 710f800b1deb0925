import { CREDENTIAL_HEADER, type Identity } from '@firefly/auth';
import { createPartnerRevocations, partnerKeyMatches, partnerKeyPrefixOf } from '@firefly/auth/partner-keys';
import type { RateLimitSetting } from '@firefly/config';
import { rateLimited, unauthenticated, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterRedis } from 'rate-limiter-flexible';

/** A partner key the gateway accepted for one request: what identity, signing and limits need. */
export interface PartnerKey {
  id: string;
  partnerId: string;
  accountUserId: string;
  requireSignature: boolean;
  /** The signing secret; null when the key does not require signatures. */
  secret: string | null;
  /** Requests per minute; null: the gateway's default. */
  rateLimitPerMinute: number | null;
}

interface KeyRecord extends PartnerKey {
  keyHash: string;
  active: boolean;
}

export interface PartnerKeyResolverOptions {
  /** The user subgraph's GraphQL endpoint (USER_SUBGRAPH_URL), which owns partners and keys. */
  userSubgraphUrl: string;
  /** Signs the gateway's service credential for the lookup. */
  signCredential: (identity: Identity) => Promise<string>;
  /** Where the revocation and suspension markers are (the user subgraph writes them). */
  redis: Redis;
  logger: Logger;
  /** How long a key's record is kept in memory (revocations are checked on every request regardless). */
  cacheTtlMs: number;
  timeoutMs: number;
  /**
   * Refused keys one client IP may present per window; past it, every key from that address is refused with
   * RATE_LIMITED until the window ends (guessing keys, or flooding the lookups with random prefixes, stops there).
   */
  failuresPerIp: RateLimitSetting;
  registry: Registry;
}

const LOOKUP = `query PartnerKeyForGateway($prefix: String!) {
  partnerKeyForGateway(prefix: $prefix) { id partnerId accountUserId keyHash requireSignature secret rateLimitPerMinute active }
}`;
const INVALID = 'Invalid API key';
/** How long an unknown or inactive key's answer is kept, so a flood of bad keys does not reach the database. */
const NEGATIVE_TTL_MS = 5_000;
const MAX_CACHED = 10_000;

/** Why a presented key was refused (the metric's `reason`). */
type Refusal = 'malformed' | 'unknown' | 'wrong_key' | 'inactive' | 'revoked' | 'address_blocked';

class KeyRefused extends Error {
  constructor(readonly reason: Refusal) {
    super(INVALID);
  }
}

export type PartnerKeyResolver = ReturnType<typeof createPartnerKeyResolver>;

/**
 * Turns an `x-api-key` value into the partner key it names, or refuses it with UNAUTHENTICATED: a malformed key, a
 * prefix the tenant does not know, a hash that does not match (compared in constant time), a revoked key or a
 * suspended partner. Records come from the user subgraph (service credential) and are cached briefly per tenant and
 * prefix; the revocation/suspension markers in Redis are read on every request (one MGET), so a revocation applies on
 * every replica from the next request on. When the user subgraph or Redis cannot answer, the request is refused
 * (UPSTREAM_UNAVAILABLE), never let through.
 */
export function createPartnerKeyResolver(options: PartnerKeyResolverOptions) {
  const revocations = createPartnerRevocations(options.redis);
  const cache = new Map<string, { record: KeyRecord | null; expiresAt: number }>();
  const inFlight = new Map<string, Promise<KeyRecord | null>>();

  async function lookup(tenantId: string, requestId: string, prefix: string): Promise<KeyRecord | null> {
    const credential = await options.signCredential({ kind: 'service', tenantId, requestId, service: 'gateway' });
    let body: { data?: { partnerKeyForGateway: KeyRecord | null } | null; errors?: unknown[] };
    try {
      const response = await fetch(options.userSubgraphUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: credential, 'x-request-id': requestId },
        body: JSON.stringify({ query: LOOKUP, variables: { prefix } }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      options.logger.warn({ err: error }, 'partner key lookup failed');
      throw upstreamUnavailable('API keys cannot be checked right now', { service: 'user' });
    }
    if (!body.data || body.errors) {
      options.logger.warn({ errors: body.errors }, 'partner key lookup refused');
      throw upstreamUnavailable('API keys cannot be checked right now', { service: 'user' });
    }
    return body.data.partnerKeyForGateway;
  }

  async function recordOf(tenantId: string, requestId: string, prefix: string): Promise<KeyRecord | null> {
    const cacheKey = `${tenantId}\u0000${prefix}`;
    const cached = cache.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return cached.record;
    let pending = inFlight.get(cacheKey);
    if (!pending) {
      pending = lookup(tenantId, requestId, prefix).finally(() => inFlight.delete(cacheKey));
      inFlight.set(cacheKey, pending);
    }
    const record = await pending;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(cacheKey, { record, expiresAt: Date.now() + (record?.active ? options.cacheTtlMs : NEGATIVE_TTL_MS) });
    return record;
  }

  const refusals = new Counter({
    name: 'gateway_partner_key_refusals_total',
    help: 'API keys refused before anything ran, by reason (malformed, unknown, wrong_key, inactive, revoked, address_blocked)',
    labelNames: ['reason'] as const,
    registers: [options.registry],
  });
  const failures = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: 'gateway-rate:partner-key-failures',
    points: options.failuresPerIp.limit,
    duration: options.failuresPerIp.duration,
  });
  let lastStoreWarning = 0;
  const storeTrouble = (error: unknown) => {
    if (Date.now() - lastStoreWarning < 5_000) return;
    lastStoreWarning = Date.now();
    options.logger.warn({ err: error }, 'partner key failure counters unavailable');
  };

  /** A refused key counts against its address; the counters are skipped (logged) when Redis cannot answer. */
  async function countFailure(ip: string): Promise<void> {
    await failures.penalty(ip).catch(storeTrouble);
  }

  async function refuseBlockedAddress(ip: string): Promise<void> {
    const state = await failures.get(ip).catch((error: unknown) => void storeTrouble(error));
    if (state && state.consumedPoints >= options.failuresPerIp.limit) {
      refusals.inc({ reason: 'address_blocked' });
      throw rateLimited(Math.max(1, Math.ceil(state.msBeforeNext / 1000)), 'Too many invalid API keys from this address; try again later');
    }
  }

  return async function resolvePartnerKey(key: string, request: { tenantId: string; requestId: string; clientIp?: string }): Promise<PartnerKey> {
    const ip = request.clientIp ?? 'unknown';
    await refuseBlockedAddress(ip);
    try {
      return await check(key, request);
    } catch (error) {
      if (!(error instanceof KeyRefused)) throw error;
      refusals.inc({ reason: error.reason });
      await countFailure(ip);
      throw unauthenticated(INVALID);
    }
  };

  async function check(key: string, request: { tenantId: string; requestId: string }): Promise<PartnerKey> {
    const prefix = partnerKeyPrefixOf(key);
    if (!prefix) throw new KeyRefused('malformed');
    const record = await recordOf(request.tenantId, request.requestId, prefix);
    if (!record) throw new KeyRefused('unknown');
    if (!partnerKeyMatches(key, record.keyHash)) throw new KeyRefused('wrong_key');
    if (!record.active) throw new KeyRefused('inactive');
    let refused: boolean;
    try {
      refused = await revocations.isRefused(record.id, record.partnerId);
    } catch {
      throw upstreamUnavailable('API keys cannot be checked right now', { service: 'redis' });
    }
    if (refused) throw new KeyRefused('revoked');
    const { id, partnerId, accountUserId, requireSignature, secret, rateLimitPerMinute } = record;
    return { id, partnerId, accountUserId, requireSignature, secret, rateLimitPerMinute };
  }
}
