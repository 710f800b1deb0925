import type { Redis } from '@firefly/redis';

/**
 * Every Redis check of an accepted partner key in one round trip (one Lua script, atomic): the revocation and
 * suspension markers (`@firefly/auth/partner-keys`), the refused-key counter of the client's address, the signed
 * request's nonce (SET NX, remembered `nonceTtlSeconds`) and the key's per-minute counter, in that order — a refusal
 * stops there, so a revoked key or a blocked address uses up no nonce and no rate, and a replayed nonce no rate.
 *
 * Hand-written rather than three client libraries' calls (rate-limiter-flexible's limiter, a SET NX, an MGET): the
 * point is the one round trip. The counters keep rate-limiter-flexible's layout (a plain integer under
 * `<prefix>:<id>`, expiring with its window), so the refused-key counter the library writes is read here as it is.
 */
const ADMIT = `
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {1, 0} end
local failures = tonumber(redis.call('GET', KEYS[3]) or '0')
if failures >= tonumber(ARGV[1]) then return {2, redis.call('PTTL', KEYS[3])} end
if ARGV[2] ~= '0' then
  if not redis.call('SET', KEYS[4], '1', 'EX', ARGV[2], 'NX') then return {3, 0} end
end
local used = redis.call('INCR', KEYS[5])
if used == 1 then redis.call('PEXPIRE', KEYS[5], ARGV[4]) end
if used > tonumber(ARGV[3]) then return {4, redis.call('PTTL', KEYS[5])} end
return {0, 0}
`;

export type AdmissionVerdict =
  | { admitted: true }
  | { admitted: false; reason: 'revoked' }
  | { admitted: false; reason: 'address_blocked'; msBeforeNext: number }
  | { admitted: false; reason: 'nonce_used' }
  | { admitted: false; reason: 'rate_limited'; msBeforeNext: number };

export interface AdmissionRequest {
  keyId: string;
  partnerId: string;
  clientIp: string;
  /** The signed request's nonce; undefined for keys that do not sign. */
  nonce: string | undefined;
  ratePerMinute: number;
}

export interface AdmissionKeys {
  revoked: (keyId: string) => string;
  suspended: (partnerId: string) => string;
  /** rate-limiter-flexible's key of the address's refused-key counter. */
  failures: (clientIp: string) => string;
  failuresLimit: number;
}

type AdmitCommand = (revoked: string, suspended: string, failures: string, nonce: string, rate: string, failuresLimit: number, nonceTtl: number, limit: number, windowMs: number) => Promise<[number, number]>;

export function createPartnerAdmission(redis: Redis, keys: AdmissionKeys, nonceTtlSeconds: number) {
  // ioredis sends EVALSHA, and the script itself only when Redis does not know it yet (after a restart); the keys
  // get the client's keyPrefix like every other command's.
  if (!('firefly_partner_admit' in redis)) redis.defineCommand('firefly_partner_admit', { numberOfKeys: 5, lua: ADMIT });
  const admit = (redis as unknown as { firefly_partner_admit: AdmitCommand }).firefly_partner_admit.bind(redis);

  return async function admitPartnerRequest(request: AdmissionRequest): Promise<AdmissionVerdict> {
    const [code, ms] = await admit(
      keys.revoked(request.keyId),
      keys.suspended(request.partnerId),
      keys.failures(request.clientIp),
      // Unsigned keys: ARGV[2] = 0 and the script never touches this key.
      `partner-nonce:${request.keyId}:${request.nonce ?? '-'}`,
      `gateway-rate:partner-key:${request.ratePerMinute}:${request.keyId}`,
      keys.failuresLimit,
      request.nonce === undefined ? 0 : nonceTtlSeconds,
      request.ratePerMinute,
      60_000,
    );
    switch (code) {
      case 0:
        return { admitted: true };
      case 1:
        return { admitted: false, reason: 'revoked' };
      case 2:
        return { admitted: false, reason: 'address_blocked', msBeforeNext: Math.max(0, ms) };
      case 3:
        return { admitted: false, reason: 'nonce_used' };
      default:
        return { admitted: false, reason: 'rate_limited', msBeforeNext: Math.max(0, ms) };
    }
  };
}
