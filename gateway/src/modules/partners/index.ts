import type { IncomingMessage } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Identity } from '@firefly/auth';
import { upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { performance } from 'node:perf_hooks';
import type { GatewayModule } from '../module.ts';
import type { PartnerKey, PartnerKeyResolver } from './keys.ts';
import { checkRequestSignature } from './signature.ts';
import { createKeyUsageRecorder } from './usage.ts';

const EMPTY = new Uint8Array();

export { createPartnerKeyResolver, type PartnerKey, type PartnerKeyResolver } from './keys.ts';

/** The header partners send their API key in. */
export const API_KEY_HEADER = 'x-api-key';

/** Which partner and key a request was made with; undefined for every other request. */
export function partnerOf(identity: Identity | undefined): { partnerId: string; apiKeyId: string } | undefined {
  return identity?.partner;
}

/** True when the request acts as the partner's own account (key without a bearer token). */
export function actsAsPartnerAccount(identity: Identity): boolean {
  return identity.kind === 'user' && identity.partner !== undefined && identity.sessionId === partnerSessionId(identity.partner.apiKeyId);
}

/** The session id of a request acting as a partner's account: it has no session of its own, only its key. */
function partnerSessionId(apiKeyId: string): string {
  return `partner-key:${apiKeyId}`;
}

/** The identity of a request made with a key alone: the partner's account, with no role beyond USER. */
export function partnerAccountIdentity(key: PartnerKey, request: { tenantId: string; requestId: string; clientIp?: string; userAgent?: string }): Identity {
  return { kind: 'user', ...request, userId: key.accountUserId, roles: ['USER'], sessionId: partnerSessionId(key.id), partner: { partnerId: key.partnerId, apiKeyId: key.id } };
}

/** Whether a request or upgrade carries an API key (even an empty one: it is refused, never ignored). */
export function hasApiKey(message: IncomingMessage): boolean {
  return message.headers[API_KEY_HEADER] !== undefined;
}

export interface PartnerModuleOptions {
  /** The resolver the caller step used: its `admit` runs the key's Redis checks. */
  partnerKeys: PartnerKeyResolver;
  logger: Logger;
  registry: Registry;
  userSubgraphUrl: string;
  signCredential: (identity: Identity) => Promise<string>;
  /** Requests per minute of a key that names no limit of its own. */
  defaultRatePerMinute: number;
  /** How far a signed request's timestamp may be from this server's clock. */
  signatureWindowSeconds: number;
  /** How often lastUsedAt is sent to the user subgraph. */
  lastUsedFlushMs: number;
  timeoutMs: number;
}

/**
 * Partner requests (`x-api-key`; docs/partners.md). The key is resolved with the caller (modules/caller.ts, before
 * the body is read; from memory once seen): unknown, malformed or inactive → UNAUTHENTICATED. This module then, once
 * the raw body is read, checks the request signature of keys that require one (CPU only), and runs the key's Redis
 * checks in one round trip (keys.ts `admit`): revoked key or suspended partner (UNAUTHENTICATED), replayed nonce
 * (UNAUTHENTICATED), the key's rate limit (RATE_LIMITED, HTTP 429). It notes when the key was used, and counts
 * partner requests in the metrics. API keys are for HTTP: a graphql-ws upgrade carrying one is refused.
 */
export function usePartners(options: PartnerModuleOptions): GatewayModule {
  const { logger } = options;
  const usage = createKeyUsageRecorder({ userSubgraphUrl: options.userSubgraphUrl, signCredential: options.signCredential, logger, flushMs: options.lastUsedFlushMs, timeoutMs: options.timeoutMs });
  const registers = [options.registry];
  const requests = new Counter({
    name: 'gateway_partner_requests_total',
    help: 'Operations of partner requests (x-api-key), by partner and outcome (ok, or error: at least one error returned)',
    labelNames: ['partner', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'gateway_partner_request_duration_seconds',
    help: 'Time from arrival to the end of the answer of partner requests, by partner',
    labelNames: ['partner'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  return {
    name: 'partners',
    async httpBody(req, res, next) {
      const caller = res.locals.caller as { partnerKey?: PartnerKey; tenantId: string; origin: { clientIp?: string } } | undefined;
      const key = caller?.partnerKey;
      if (!key) return next();
      try {
        let nonce: string | undefined;
        if (key.requireSignature) {
          if (!key.signingKey) throw upstreamUnavailable('API keys cannot be checked right now', { service: 'user' });
          // The bytes as received (kept by the JSON parser's verify hook), hashed as they are.
          const body: Uint8Array = (res.locals.rawBody as Buffer | undefined) ?? EMPTY;
          nonce = checkRequestSignature({ method: req.method, path: req.originalUrl, headers: req.headers, body }, key.signingKey, { windowSeconds: options.signatureWindowSeconds });
        }
        await options.partnerKeys.admit(key, { clientIp: caller.origin.clientIp, nonce, ratePerMinute: key.rateLimitPerMinute ?? options.defaultRatePerMinute });
        usage.used(caller.tenantId, key.id);
        next();
      } catch (error) {
        next(error);
      }
    },
    upgrade(request) {
      if (hasApiKey(request)) return { status: 400, message: 'API keys are accepted on HTTP only (POST or GET /graphql)' };
      return undefined;
    },
    afterOperation(record) {
      const partner = partnerOf(record.identity);
      if (!partner) return;
      const failed = record.errorCodes.length > 0;
      requests.inc({ partner: partner.partnerId, outcome: failed ? 'error' : 'ok' });
      duration.observe({ partner: partner.partnerId }, (performance.now() - record.startedAt) / 1000);
      // Usage per listed operation, acting as the account or as a user (refused before running: metrics only).
      if (record.partnerOperationId === undefined) return;
      usage.ran({
        tenantId: record.identity!.tenantId,
        partnerId: partner.partnerId,
        operationId: record.partnerOperationId,
        operationName: record.operationName ?? 'anonymous',
        actingAs: actsAsPartnerAccount(record.identity!) ? 'ACCOUNT' : 'USER',
        failed,
        at: new Date(),
      });
    },
    stop: () => usage.stop(),
  };
}
