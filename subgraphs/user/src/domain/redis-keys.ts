import { createKeyedHash } from './keyed-hash.ts';
import type { SmsPurpose } from './sms-codes.ts';

/**
 * Names of the user subgraph's per-person Redis keys (under the process's REDIS_KEY_PREFIX). Phone numbers and
 * logins appear only as keyed hashes (INTERNAL_TOKEN_SECRET), so whoever knows the secret — the subgraph itself, an
 * operator clearing one user's lock, a test ending a window instead of waiting for it — finds a person's key, and a
 * Redis dump reveals nobody.
 */
export function userRedisKeys(secret: string) {
  const phoneId = createKeyedHash(secret, 'sms-phone');
  const accountId = createKeyedHash(secret, 'login-account');
  return {
    /** The hashed (tenant, phone) the SMS keys and daily caps are counted under. */
    phoneId: (tenantId: string, phone: string) => phoneId(`${tenantId}:${phone}`),
    /** The live SMS code of a phone for one purpose (a hash; expires after SMS_CODE_TTL_SECONDS). */
    smsCode: (tenantId: string, phone: string, purpose: SmsPurpose) => `sms-code:${purpose}:${phoneId(`${tenantId}:${phone}`)}`,
    /** The phone's resend cooldown. */
    smsCooldown: (tenantId: string, phone: string) => `sms-cooldown:${phoneId(`${tenantId}:${phone}`)}`,
    /** The hashed (tenant, normalised login) failed sign-ins are counted under. */
    loginAccountId: (tenantId: string, login: string) => accountId(`${tenantId}:${login}`),
  };
}

/** The rate-limiter-flexible prefixes of the failed sign-in counters (key: `<prefix>:<id>`; window = the key's TTL). */
export const LOGIN_FAILURE_PREFIXES = { account: 'login-fail-account', ip: 'login-fail-ip' } as const;

/** Full keys of the failed sign-in counters of an account (normalised login) and of a client IP. */
export function loginFailureKeys(keys: ReturnType<typeof userRedisKeys>, tenantId: string, login: string, clientIp: string): { account: string; ip: string } {
  return { account: `${LOGIN_FAILURE_PREFIXES.account}:${keys.loginAccountId(tenantId, login)}`, ip: `${LOGIN_FAILURE_PREFIXES.ip}:${tenantId}:${clientIp}` };
}
