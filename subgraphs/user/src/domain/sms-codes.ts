import { randomInt } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from '@firefly/redis';
import { badUserInput, rateLimited, upstreamUnavailable } from '@firefly/errors';
import { maskPhone, type Logger } from '@firefly/logger';
import { isSmsError, type SmsProvider } from '@firefly/sms';
import { createKeyedHash } from './keyed-hash.ts';
import { userRedisKeys } from './redis-keys.ts';

export type SmsPurpose = 'REGISTER' | 'LOGIN' | 'RESET_PASSWORD' | 'BIND_PHONE';

export interface SmsCodeSettings {
  ttlSeconds: number;
  maxAttempts: number;
  cooldownSeconds: number;
  dailyCapPerPhone: number;
  dailyCapPerIp: number;
}

export type SmsCodeCheck = 'ok' | 'wrong' | 'missing' | 'exhausted';

/**
 * Verifies and consumes a code in one step, so two concurrent attempts cannot both succeed (single use) and the
 * attempt counter cannot be raced past its limit. Returns 1 ok, 0 missing/expired, -1 wrong, -2 wrong and now
 * destroyed (the last allowed attempt).
 */
const VERIFY_SCRIPT = `
local stored = redis.call('HGET', KEYS[1], 'h')
if not stored then return 0 end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
local tries = redis.call('HINCRBY', KEYS[1], 't', 1)
if tries >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return -2
end
return -1
`;

/**
 * SMS verification codes: 6 digits from a CSPRNG, stored only as an HMAC in Redis for `ttlSeconds`, bound to
 * (tenant, phone, purpose), single use, destroyed after `maxAttempts` wrong tries. Sending is limited by a
 * per-phone cooldown and daily caps per phone and per client IP, all in Redis so every replica shares them.
 */
export function createSmsCodes(deps: { redis: Redis; provider: SmsProvider; secret: string; settings: SmsCodeSettings; logger: Logger }) {
  const { redis, provider, settings } = deps;
  const keys = userRedisKeys(deps.secret);
  const hashCode = createKeyedHash(deps.secret, 'sms-code');
  const perPhone = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'sms-cap-phone', points: settings.dailyCapPerPhone, duration: 86_400 });
  const perIp = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'sms-cap-ip', points: settings.dailyCapPerIp, duration: 86_400 });
  const codeKey = keys.smsCode;
  const cooldownKey = keys.smsCooldown;

  return {
    /**
     * Applies cooldown and caps, then (when `deliver`) sends a fresh code, replacing any earlier one for this
     * purpose. Callers pass `deliver: false` when the code could not be used (e.g. LOGIN for an unknown number):
     * the answer and the limits are the same, so the response tells nothing about which numbers have accounts.
     */
    async request(input: { tenantId: string; phone: string; purpose: SmsPurpose; clientIp: string; deliver: boolean }): Promise<{ cooldownSeconds: number }> {
      const { tenantId, phone, purpose } = input;
      const cooldown = cooldownKey(tenantId, phone);
      const acquired = await redis.set(cooldown, '1', 'EX', settings.cooldownSeconds, 'NX');
      if (acquired !== 'OK') {
        const ttl = await redis.pttl(cooldown);
        throw rateLimited(Math.max(ttl, 1_000) / 1000, 'Wait before requesting another code');
      }
      try {
        await perPhone.consume(keys.phoneId(tenantId, phone));
        await perIp.consume(`${tenantId}:${input.clientIp}`);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw rateLimited(error.msBeforeNext / 1000, 'Too many codes requested today');
        throw error;
      }
      if (!input.deliver) return { cooldownSeconds: settings.cooldownSeconds };

      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const key = codeKey(tenantId, phone, purpose);
      await redis.multi().del(key).hset(key, 'h', hashCode(code), 't', 0).expire(key, settings.ttlSeconds).exec();
      try {
        await provider.sendVerificationCode({ phone, code });
      } catch (error) {
        // Nothing was delivered: forget the code and let the user try again right away.
        await redis.del(key, cooldown);
        deps.logger.warn({ err: { message: error instanceof Error ? error.message : String(error) }, phoneMasked: maskPhone(phone), purpose }, 'SMS code not sent');
        if (isSmsError(error)) {
          switch (error.kind) {
            case 'throttled':
              throw rateLimited(settings.cooldownSeconds, 'Too many codes sent to this number; try again later');
            case 'invalid-number':
              throw badUserInput('This number cannot receive SMS', { field: 'phone' });
            case 'rejected':
            case 'unavailable':
              throw upstreamUnavailable('The SMS service is unavailable, try again later', { service: 'sms' });
          }
        }
        throw upstreamUnavailable('The SMS service is unavailable, try again later', { service: 'sms' });
      }
      deps.logger.info({ phoneMasked: maskPhone(phone), purpose, provider: provider.name }, 'sent an SMS code');
      return { cooldownSeconds: settings.cooldownSeconds };
    },

    async verify(input: { tenantId: string; phone: string; purpose: SmsPurpose; code: string }): Promise<SmsCodeCheck> {
      const key = codeKey(input.tenantId, input.phone, input.purpose);
      // A malformed code still costs an attempt: it is a wrong guess like any other.
      const candidate = /^\d{6}$/.test(input.code) ? hashCode(input.code) : '-';
      const result = (await redis.eval(VERIFY_SCRIPT, 1, key, candidate, settings.maxAttempts)) as number;
      switch (result) {
        case 1:
          // The cooldown limits re-sending while a code is outstanding; once one is used, a next step (sign-in
          // right after registering) may ask for another at once. The daily caps still apply.
          await redis.del(cooldownKey(input.tenantId, input.phone));
          return 'ok';
        case 0:
          return 'missing';
        case -2:
          return 'exhausted';
        default:
          return 'wrong';
      }
    },
  };
}

export type SmsCodes = ReturnType<typeof createSmsCodes>;
