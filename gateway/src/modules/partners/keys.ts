import type { KeyObject } from 'node:crypto';
import { CREDENTIAL_HEADER, type Identity } from '@firefly/auth';
import { partnerKeyMatches, partnerKeyPrefixOf, partnerMarkerKeys } from '@firefly/auth/partner-keys';
import type { RateLimitSetting } from '@firefly/config';
import { rateLimited, unauthenticated, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { redisUnavailableReason, type Redis } from '@firefly/redis';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createPartnerAdmission } from './admission.ts';
import { NONCE_TTL_SECONDS, signingKeyOf } from './signature.ts';

/** A partner key the gateway accepted for one request: what identity, signing and limits need. */
export interface PartnerKey {
  id: string;
  partnerId: string;
  accountUserId: string;
  requireSignature: boolean;
  /** The signing secret as an HMAC key (made once per cached record); null when the key does not require signatures. */
  signingKey: KeyObject | null;
  /** Requests per minute; null: the gateway's default. */
  rateLimitPerMinute: number | null;
}

/** What the user subgraph answers for a prefix. */
interface KeyRecord extends Omit<PartnerKey, 'signingKey'> {
  keyHash: string;
  secret: string | null;
  active: boolean;
}

/** A record as cached: with the PartnerKey handed to every request made with it, built once. */
interface CachedKey {
  record: KeyRecord;
  key: PartnerKey;
}

export interface PartnerKeyResolverOptions {
  /** The user subgraph's GraphQL endpoint (USER_SUBGRAPH_URL), which owns partners and keys. */
  userSubgraphUrl: string;
  /** Signs the gateway's service credential for the lookup. */
  signCredential: (identity: Identity) => Promise<string>;
  /** Where the revocation and suspension markers are (the user subgraph writes them). */
  redis: Redis;
  logger: Logger;
  /** How long a key's record is kept in memory (revocation markers are checked on every request regardless). */
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

export type PartnerKeyResolver = ReturnType<typeof createPartnerKeyResolver>;

/**
 * Turns an `x-api-key` value into the partner key it names, or refuses it with UNAUTHENTICATED: a malformed key, a
 * prefix the tenant does not know, a hash that does not match (compared in constant time), a key the user subgraph
 * says is inactive. Records come from the user subgraph (service credential) and are cached per tenant and prefix
 * (`cacheTtlMs`; unknown and inactive ones 5 s). Then `admit` (once the body is read) reads the revocation/suspension
 * markers in Redis on every request, in the same round trip as the nonce and the rate counter, so a revocation applies
 * on every replica from the next request on. When the user subgraph or Redis cannot answer, the request is refused
 * (UPSTREAM_UNAVAILABLE), never let through.
 */
export function createPartnerKeyResolver(options: PartnerKeyResolverOptions) {
  const cache = new Map<string, { entry: CachedKey | null; expiresAt: number }>();
  const inFlight = new Map<string, Promise<CachedKey | null>>();

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

  const cacheKeyOf = (tenantId: string, prefix: string) => `${tenantId}\u0000${prefix}`;

  /** The cached record of a prefix, or undefined when it must be looked up (never seen, or expired). */
  function cachedOf(cacheKey: string): { entry: CachedKey | null } | undefined {
    const cached = cache.get(cacheKey);
    return cached && cached.expiresAt > Date.now() ? cached : undefined;
  }

  async function entryOf(cacheKey: string, tenantId: string, requestId: string, prefix: string): Promise<CachedKey | null> {
    const cached = cachedOf(cacheKey);
    if (cached) return cached.entry;
    let pending = inFlight.get(cacheKey);
    if (!pending) {
      pending = lookup(tenantId, requestId, prefix)
        .then((record) => {
          const entry = record && { record, key: partnerKeyOf(record) };
          if (cache.size >= MAX_CACHED) cache.clear();
          cache.set(cacheKey, { entry, expiresAt: Date.now() + (record?.active ? options.cacheTtlMs : NEGATIVE_TTL_MS) });
          return entry;
        })
        .finally(() => inFlight.delete(cacheKey));
      inFlight.set(cacheKey, pending);
    }
    return pending;
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

  /**
   * A refused key: RATE_LIMITED when its address is already past its refused-key limit (checked here unless the
   * request was checked before its lookup), else UNAUTHENTICATED, counted, and counted against the address.
   */
  async function refuse(reason: Refusal, ip: string, addressChecked: boolean): Promise<never> {
    if (!addressChecked) await refuseBlockedAddress(ip);
    refusals.inc({ reason });
    await countFailure(ip);
    throw unauthenticated(INVALID);
  }

  /**
   * Resolves an `x-api-key` when the request arrives (before its body is read), from memory for a key seen within
   * `cacheTtlMs`: no Redis round trip for a good key here — its markers, nonce and rate are checked in one script by
   * `admit` once the body is read. A key that must be looked up is first checked against its address's refused-key
   * limit, so a flood of random keys never reaches the user subgraph.
   */
  async function resolvePartnerKey(key: string, request: { tenantId: string; requestId: string; clientIp?: string }): Promise<PartnerKey> {
    const ip = request.clientIp ?? 'unknown';
    const prefix = partnerKeyPrefixOf(key);
    if (!prefix) return refuse('malformed', ip, false);
    const cacheKey = cacheKeyOf(request.tenantId, prefix);
    const addressChecked = !cachedOf(cacheKey);
    if (addressChecked) await refuseBlockedAddress(ip);
    const entry = await entryOf(cacheKey, request.tenantId, request.requestId, prefix);
    if (!entry) return refuse('unknown', ip, addressChecked);
    if (!partnerKeyMatches(key, entry.record.keyHash)) return refuse('wrong_key', ip, addressChecked);
    if (!entry.record.active) return refuse('inactive', ip, addressChecked);
    return entry.key;
  }

  const admission = createPartnerAdmission(
    options.redis,
    {
      ...partnerMarkerKeys,
      // rate-limiter-flexible's key for `failures` (`<keyPrefix>:<key>`), read by the script as the library wrote it.
      failures: (ip) => `gateway-rate:partner-key-failures:${ip}`,
      failuresLimit: options.failuresPerIp.limit,
    },
    NONCE_TTL_SECONDS,
  );

  /**
   * The request's Redis checks in one round trip, once its signature (if the key signs) was verified: refused from the
   * next request on when the key was revoked or its partner suspended (UNAUTHENTICATED, counted against the address),
   * RATE_LIMITED when the address is past its refused-key limit or the key past its rate, UNAUTHENTICATED for a nonce
   * already used on any replica. Redis not answering: UPSTREAM_UNAVAILABLE — never let through, since the markers
   * cannot be read.
   */
  async function admit(key: PartnerKey, request: { clientIp?: string | undefined; nonce: string | undefined; ratePerMinute: number }): Promise<void> {
    const ip = request.clientIp ?? 'unknown';
    let verdict;
    try {
      verdict = await admission({ keyId: key.id, partnerId: key.partnerId, clientIp: ip, nonce: request.nonce, ratePerMinute: request.ratePerMinute });
    } catch (error) {
      options.logger.warn({ err: error }, 'partner key checks in Redis failed');
      const reason = redisUnavailableReason(error);
      throw upstreamUnavailable('API keys cannot be checked right now', { service: 'redis', ...(reason ? { reason } : {}) });
    }
    if (verdict.admitted) return;
    switch (verdict.reason) {
      case 'revoked':
        // The script found the address under its limit.
        return refuse('revoked', ip, true);
      case 'address_blocked':
        refusals.inc({ reason: 'address_blocked' });
        throw rateLimited(Math.max(1, Math.ceil(verdict.msBeforeNext / 1000)), 'Too many invalid API keys from this address; try again later');
      case 'nonce_used':
        throw unauthenticated('x-firefly-nonce was already used');
      case 'rate_limited':
        throw rateLimited(Math.max(1, Math.ceil(verdict.msBeforeNext / 1000)), `This API key may make ${request.ratePerMinute} requests per minute; try again later`);
    }
  }

  return Object.assign(resolvePartnerKey, { admit });
}

/** The PartnerKey of a record, with its HMAC key made once for every request the record serves. */
function partnerKeyOf(record: KeyRecord): PartnerKey {
  const { id, partnerId, accountUserId, requireSignature, secret, rateLimitPerMinute } = record;
  return { id, partnerId, accountUserId, requireSignature, signingKey: secret ? signingKeyOf(secret) : null, rateLimitPerMinute };
}
