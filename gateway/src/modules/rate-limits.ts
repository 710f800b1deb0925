import type { IncomingMessage } from 'node:http';
import type { Identity } from '@firefly/auth';
import type { RateLimitSetting } from '@firefly/config';
import { rateLimited } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { RuntimeSettings } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { sendErrors } from './http-errors.ts';
import { actsAsPartnerAccount, hasApiKey } from './partners/index.ts';
import type { GatewayModule, OperationRecord } from './module.ts';

export interface GatewayRateLimitOptions {
  /** Counters live here, so every gateway replica shares them. */
  redis: Redis;
  logger: Logger;
  /** The client IP of a request or upgrade, under the TRUST_PROXY rules. */
  clientIpOf: (message: IncomingMessage) => string | undefined;
  /** Requests without a bearer token (and graphql-ws upgrades), per client IP. */
  anonymousPerIp: RateLimitSetting;
  /**
   * Operations of one signed-in user, whatever they are, on HTTP and graphql-ws (RATE_LIMIT_PER_USER): the default
   * while the run-time setting rateLimitPerUserPerMinute is unset.
   */
  perUser: RateLimitSetting;
  /** System settings set at run time (not started yet: the module starts it, and stops it with the gateway). */
  settings: RuntimeSettings;
  /** Subscriptions one user may start. */
  subscribesPerUser: RateLimitSetting;
  /** Open graphql-ws sockets per client IP on this replica (authenticated or not yet). */
  maxSocketsPerIp: number;
}

type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Rate limits at the gateway, counted in Redis (rate-limiter-flexible) across replicas: anonymous traffic per client
 * IP before the body is read, every operation of a signed-in user (RATE_LIMIT_PER_USER, or the operators' run-time
 * setting rateLimitPerUserPerMinute, read at every operation), subscription starts per user; and, on this
 * replica, open graphql-ws sockets per client IP. A limited request gets RATE_LIMITED with `retryAfterSeconds` (HTTP
 * 429 with `Retry-After`; an upgrade is refused with 429). The per-field limits of mutations are the subgraphs'
 * `@rateLimit`. When Redis cannot be reached the counters are skipped (logged), never the traffic.
 */
export function useRateLimits(options: GatewayRateLimitOptions): GatewayModule {
  const { logger } = options;
  const limiter = (name: string, setting: RateLimitSetting) =>
    new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix: `gateway-rate:${name}`,
      points: setting.limit,
      duration: setting.duration,
      // Once a key is over its limit, refuse it from memory until its window ends (no Redis call per refusal).
      inMemoryBlockOnConsumed: setting.limit + 1,
    });
  const anonymous = limiter('anonymous', options.anonymousPerIp);
  // One limiter per per-user limit in force; the counters stay the same Redis keys whatever the limit.
  const perUserLimiters = new Map<string, RateLimiterRedis>();
  const perUser = (): RateLimiterRedis => {
    const perMinute = options.settings.value('rateLimitPerUserPerMinute');
    const setting = perMinute === undefined ? options.perUser : { limit: perMinute, duration: 60 };
    const key = `${setting.limit}/${setting.duration}`;
    let found = perUserLimiters.get(key);
    if (!found) {
      found = limiter('user', setting);
      perUserLimiters.set(key, found);
    }
    return found;
  };
  options.settings.follower.start().catch((error: unknown) => logger.error({ err: error }, 'following the system settings failed'));
  const subscribes = limiter('subscribe', options.subscribesPerUser);

  let lastStoreWarning = 0;
  async function consume(target: RateLimiterRedis, key: string): Promise<Verdict> {
    try {
      await target.consume(key);
      return { allowed: true };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
      const now = Date.now();
      if (now - lastStoreWarning > 5_000) {
        lastStoreWarning = now;
        logger.warn({ err: error }, 'rate limit counters unavailable; letting traffic through uncounted');
      }
      return { allowed: true };
    }
  }

  const socketsPerIp = new Map<string, number>();
  // Whom the per-user limit counts: signed-in users; a partner's account is limited per API key instead (modules/partners).
  const counted = (identity: Identity | undefined): string | undefined =>
    identity?.kind === 'user' && !actsAsPartnerAccount(identity) ? `${identity.tenantId}:${identity.userId}` : undefined;
  // HTTP: the per-user count of a request, asked of Redis as soon as its caller is known — it does not depend on
  // the document — while the body is read and the document checked; beforeOperation takes its verdict. A request
  // whose document is refused has then been counted too, like every anonymous request (counted before its body).
  const earlyCounts = new WeakMap<OperationRecord, Promise<Verdict>>();

  return {
    name: 'rate-limits',
    async http(req, res, next) {
      // Callers with a token or an API key are limited by who they are (per user, per key), not by address.
      if (req.headers.authorization !== undefined || hasApiKey(req)) return next();
      const verdict = await consume(anonymous, `ip:${req.ip ?? 'unknown'}`);
      if (verdict.allowed) return next();
      const error = rateLimited(verdict.retryAfterSeconds, 'Too many requests from this address; try again later');
      sendErrors(res, [{ message: error.message, extensions: error.extensions }], 429);
    },
    callerKnown(operation) {
      const who = counted(operation.identity);
      if (who !== undefined) earlyCounts.set(operation, consume(perUser(), who));
    },
    async beforeOperation(context) {
      const { identity, operation } = context;
      const who = counted(identity);
      if (who === undefined) return;
      // A subscription counts against both limits, asked of Redis at once (one round trip before the stream starts,
      // not two); a start refused by the per-user limit has then used one of the user's subscription starts too.
      const [verdict, started] = await Promise.all([
        earlyCounts.get(operation) ?? consume(perUser(), who),
        operation.operationType === 'subscription' ? consume(subscribes, who) : undefined,
      ]);
      if (!verdict.allowed) throw rateLimited(verdict.retryAfterSeconds, 'Too many requests for this account; try again later');
      if (!started) return;
      if (!started.allowed) throw rateLimited(started.retryAfterSeconds, 'Too many subscriptions started; try again later');
    },
    async upgrade(request) {
      const ip = options.clientIpOf(request) ?? 'unknown';
      const open = socketsPerIp.get(ip) ?? 0;
      if (open >= options.maxSocketsPerIp) {
        return { status: 429, message: `At most ${options.maxSocketsPerIp} open connections per address`, headers: { 'retry-after': '5' } };
      }
      // Counted from now until the TCP socket closes, whoever ends it (a refusal, the client, the server).
      socketsPerIp.set(ip, open + 1);
      request.socket.once('close', () => {
        const left = (socketsPerIp.get(ip) ?? 1) - 1;
        if (left > 0) socketsPerIp.set(ip, left);
        else socketsPerIp.delete(ip);
      });
      const verdict = await consume(anonymous, `ip:${ip}`);
      if (!verdict.allowed) return { status: 429, message: 'Too many requests from this address; try again later', headers: { 'retry-after': String(verdict.retryAfterSeconds) } };
      return undefined;
    },
    stop: () => options.settings.follower.stop(),
  };
}

