import { describe, expect, it } from 'vitest';
import { AppError } from '@firefly/errors';
import { loadUserConfig } from '../config.ts';
import { parseEmail, parseLogin, parsePhone, requireAvatarUrl, requireDisplayName } from '../domain/identifiers.ts';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import { createPasswordHasher } from '../domain/passwords.ts';

function reasonOf(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).extensions;
  }
  return null;
}

describe('password policy', () => {
  it('accepts long passphrases of any characters', () => {
    for (const ok of ['correct horse battery staple', '我的密码很安全2025', 'Tr0ub4dor&3', 'a b c d e f']) expect(() => checkPasswordPolicy(ok)).not.toThrow();
  });

  it('refuses with a field and a reason', () => {
    expect(reasonOf(() => checkPasswordPolicy('short'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password', reason: 'TOO_SHORT' });
    expect(reasonOf(() => checkPasswordPolicy('y'.repeat(129)))).toMatchObject({ reason: 'TOO_LONG' });
    expect(reasonOf(() => checkPasswordPolicy('Password123'))).toMatchObject({ reason: 'TOO_COMMON' });
    expect(reasonOf(() => checkPasswordPolicy('aaaabbbb'))).toMatchObject({ reason: 'TOO_SIMPLE' });
    expect(reasonOf(() => checkPasswordPolicy('13800001234abc', { phone: '13800001234' }))).toMatchObject({ reason: 'CONTAINS_IDENTIFIER' });
    expect(reasonOf(() => checkPasswordPolicy('li.wei.2025!', { email: 'li.wei@example.com' }))).toMatchObject({ reason: 'CONTAINS_IDENTIFIER' });
    expect(reasonOf(() => checkPasswordPolicy('short', {}, 'newPassword'))).toMatchObject({ field: 'newPassword' });
  });
});

describe('identifiers', () => {
  it('normalises mainland mobile numbers and emails', () => {
    expect(parsePhone('+86 138-0000-1234')).toBe('13800001234');
    expect(parsePhone('008613800001234')).toBe('13800001234');
    expect(parsePhone('12800001234')).toBeNull();
    expect(parsePhone('+14155550100')).toBeNull();
    expect(parseEmail('  Li.Wei@Example.COM ')).toBe('li.wei@example.com');
    expect(parseEmail('no-at-sign')).toBeNull();
    expect(parseLogin('13800001234')).toEqual({ kind: 'phone', phone: '13800001234' });
    expect(parseLogin('A@B.cn')).toEqual({ kind: 'email', email: 'a@b.cn' });
    expect(parseLogin('admin')).toBeNull();
  });

  it('validates profile fields', () => {
    expect(requireDisplayName('  萤火   用户 ')).toBe('萤火 用户');
    expect(() => requireDisplayName('   ')).toThrow(AppError);
    expect(() => requireDisplayName('x'.repeat(51))).toThrow(AppError);
    expect(() => requireDisplayName('bad\u0007name')).toThrow(AppError);
    expect(requireAvatarUrl('https://cdn.example.com/a.png')).toBe('https://cdn.example.com/a.png');
    expect(() => requireAvatarUrl('javascript:alert(1)')).toThrow(AppError);
    expect(() => requireAvatarUrl('/relative.png')).toThrow(AppError);
  });
});

describe('argon2id', () => {
  it('hashes with the configured parameters, verifies, and spends time on unknown accounts too', async () => {
    const hasher = await createPasswordHasher({ memoryKib: 19_456, timeCost: 2, parallelism: 1 });
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'wrong')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(false);
    const stronger = await createPasswordHasher({ memoryKib: 47_104, timeCost: 1, parallelism: 1 });
    expect(stronger.needsRehash(hash)).toBe(true);

    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };
    const median = async (fn: () => Promise<unknown>) => {
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) runs.push(await time(fn));
      return runs.sort((a, b) => a - b)[2]!;
    };
    const real = await median(() => hasher.verify(hash, 'wrong password'));
    const dummy = await median(() => hasher.verifyNothing('wrong password'));
    // Loose: the whole suite runs in parallel. Without the dummy hash the ratio would be near 0.
    expect(dummy).toBeGreaterThan(real * 0.3);
  });
});

describe('configuration', () => {
  it('refuses argon2 parameters below the OWASP minimum', () => {
    expect(() => loadUserConfig({ ARGON2_MEMORY_KIB: '4096' })).toThrow(/ARGON2_MEMORY_KIB/);
    expect(() => loadUserConfig({ ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '1' })).toThrow(/OWASP/);
    expect(loadUserConfig({ ARGON2_MEMORY_KIB: '47104', ARGON2_TIME_COST: '1' }).ARGON2_MEMORY_KIB).toBe(47_104);
  });

  it('refuses the console SMS provider (and other development defaults) in production', () => {
    expect(() => loadUserConfig({ NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 'z'.repeat(40), ACCESS_TOKEN_KEYS: '[]' })).toThrow(/SMS_PROVIDER/);
  });

  it('requires the Aliyun settings when SMS_PROVIDER=aliyun', () => {
    expect(() => loadUserConfig({ SMS_PROVIDER: 'aliyun' })).toThrow(/ALIYUN_SMS_ACCESS_KEY_ID/);
  });

  it('refuses a malformed USER_RATE_LIMITS', () => {
    expect(() => loadUserConfig({ USER_RATE_LIMITS: 'login=5' })).toThrow(/USER_RATE_LIMITS/);
    expect(loadUserConfig({ USER_RATE_LIMITS: 'Mutation.login=5/60, Mutation.register=1/3600' }).USER_RATE_LIMITS).toContain('Mutation.login=5/60');
  });
});
