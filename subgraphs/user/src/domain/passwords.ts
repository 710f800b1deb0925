import { randomBytes } from 'node:crypto';
import argon2, { type HashOptions } from 'argon2';

export interface Argon2Params {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** Longest input ever handed to argon2 at login: anything longer cannot match a policy-conforming password. */
const MAX_VERIFY_BYTES = 1024;

/**
 * argon2id with the configured parameters. `verifyNothing` spends the same time on a dummy hash, so that a login
 * for an unknown account (or one without a password) costs what a real verification costs: no user enumeration
 * by timing.
 */
export async function createPasswordHasher(params: Argon2Params) {
  const options: HashOptions = { type: argon2.argon2id, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism };
  const dummyHash = await argon2.hash(randomBytes(32).toString('base64url'), { ...options, raw: false });

  return {
    hash: (password: string): Promise<string> => argon2.hash(password, { ...options, raw: false }),
    async verify(hash: string, password: string): Promise<boolean> {
      if (Buffer.byteLength(password) > MAX_VERIFY_BYTES) return false;
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
    async verifyNothing(password: string): Promise<false> {
      await argon2.verify(dummyHash, password.slice(0, MAX_VERIFY_BYTES)).catch(() => false);
      return false;
    },
    /** True when `hash` was made with other (older) parameters: rehash after a successful login. */
    needsRehash: (hash: string) => argon2.needsRehash(hash, { memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism }),
  };
}

export type PasswordHasher = Awaited<ReturnType<typeof createPasswordHasher>>;
