import type { Redis } from '@firefly/redis';
import { randomUUID } from 'node:crypto';
import type { RequestClaims } from './ports.ts';

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/**
 * Exclusive claims with an expiry (`SET NX PX`, renewed by compare-and-pexpire, released by compare-and-delete), so concurrent duplicates of one
 * request wait for the first instead of reserving credits and a generation slot of their own. Hand-written: one
 * command and a three-line script; a lock library (Redlock) adds multi-node quorum this single Redis does not need.
 * The claim only saves work: the message's unique idempotency key is what guarantees one turn per key.
 */
export function createRequestClaims(redis: Redis): RequestClaims {
  return {
    async claim(key, ttlMs) {
      const token = randomUUID();
      return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null;
    },
    async release(key, token) {
      await redis.eval(RELEASE, 1, key, token);
    },
    async renew(key, token, ttlMs) {
      return (await redis.eval(RENEW, 1, key, token, ttlMs)) === 1;
    },
  };
}
