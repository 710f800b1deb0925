import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from '@firefly/redis';
import { rateLimited } from '@firefly/errors';
import { LOGIN_FAILURE_PREFIXES, userRedisKeys } from './redis-keys.ts';

export interface LoginThrottleSettings {
  maxFailuresPerAccount: number;
  accountWindowSeconds: number;
  maxFailuresPerIp: number;
  ipWindowSeconds: number;
}

/**
 * Failed-login throttling with rate-limiter-flexible on Redis, after its "login endpoint protection" pattern: one
 * counter per client IP (any account: slows credential stuffing) and one per account (any IP: slows a distributed
 * guess of one password). Only failures count; a successful login clears the account's counter. Once a counter
 * reaches its maximum, attempts are refused with RATE_LIMITED — before the password is even checked — until the
 * window has passed. Unknown accounts count like known ones, so throttling tells nothing about which exist.
 *
 * The account key is an HMAC of the tenant and the normalised login, never the email or phone itself.
 */
export function createLoginThrottle(deps: { redis: Redis; secret: string; settings: LoginThrottleSettings }) {
  const { settings } = deps;
  const redisKeys = userRedisKeys(deps.secret);
  const byAccount = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: LOGIN_FAILURE_PREFIXES.account,
    points: settings.maxFailuresPerAccount,
    duration: settings.accountWindowSeconds,
  });
  const byIp = new RateLimiterRedis({ storeClient: deps.redis, keyPrefix: LOGIN_FAILURE_PREFIXES.ip, points: settings.maxFailuresPerIp, duration: settings.ipWindowSeconds });
  const keys = (tenantId: string, login: string, clientIp: string) => ({ account: redisKeys.loginAccountId(tenantId, login), ip: `${tenantId}:${clientIp}` });

  const blockedFor = (res: RateLimiterRes | null, max: number) => (res && res.consumedPoints >= max ? res.msBeforeNext : 0);

  return {
    /** Throws RATE_LIMITED while either counter is exhausted. */
    async check(tenantId: string, login: string, clientIp: string): Promise<void> {
      const k = keys(tenantId, login, clientIp);
      const [account, ip] = await Promise.all([byAccount.get(k.account), byIp.get(k.ip)]);
      const waitMs = Math.max(blockedFor(account, settings.maxFailuresPerAccount), blockedFor(ip, settings.maxFailuresPerIp));
      if (waitMs > 0) throw rateLimited(waitMs / 1000, 'Too many failed sign-in attempts; try again later');
    },
    async recordFailure(tenantId: string, login: string, clientIp: string): Promise<void> {
      const k = keys(tenantId, login, clientIp);
      // consume() rejects once the limit is passed; the counter still moved, which is all we need here.
      await Promise.allSettled([byAccount.consume(k.account), byIp.consume(k.ip)]);
    },
    async recordSuccess(tenantId: string, login: string, clientIp: string): Promise<void> {
      await byAccount.delete(keys(tenantId, login, clientIp).account);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
