import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '@firefly/logger';
import { createAliyunSmsProvider } from '@firefly/sms';
import { startAliyunSmsDouble, type AliyunSmsDouble } from '@firefly/sms/double';
import { createSmsCodes } from '../domain/sms-codes.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: `${process.env.REDIS_KEY_PREFIX ?? 'test:'}sms-unit:${randomUUID().slice(0, 8)}:` });
let double: AliyunSmsDouble;
let codes: ReturnType<typeof createSmsCodes>;

beforeAll(async () => {
  double = await startAliyunSmsDouble({ limits: { perMinute: 100, perHour: 100, perDay: 100 } });
  codes = createSmsCodes({
    redis,
    provider: createAliyunSmsProvider({ accessKeyId: double.accessKeyId, accessKeySecret: double.accessKeySecret, endpoint: double.url, signName: double.signName, templateCode: double.templateCode }),
    secret: 'q'.repeat(64),
    logger: createLogger({ service: 'test', level: 'silent' }),
    settings: { ttlSeconds: 300, maxAttempts: 5, cooldownSeconds: 60, dailyCapPerPhone: 10, dailyCapPerIp: 30 },
  });
});
afterAll(async () => {
  redis.disconnect();
  await double.close();
});

let n = 0;
const phone = () => `1370000${String(++n).padStart(4, '0')}`;

describe('SMS codes', () => {
  it('verify once, bound to tenant and purpose', async () => {
    const p = phone();
    await codes.request({ tenantId: 't1', phone: p, purpose: 'LOGIN', clientIp: '1.1.1.1', deliver: true });
    const code = double.lastCode(p)!;
    expect(await codes.verify({ tenantId: 't2', phone: p, purpose: 'LOGIN', code })).toBe('missing');
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'REGISTER', code })).toBe('missing');
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code })).toBe('ok');
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code })).toBe('missing');
  });

  it('count malformed and wrong codes as tries, and destroy the code at the fifth', async () => {
    const p = phone();
    await codes.request({ tenantId: 't1', phone: p, purpose: 'LOGIN', clientIp: '1.1.1.2', deliver: true });
    const code = double.lastCode(p)!;
    const wrong = code === '123456' ? '654321' : '123456';
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code: 'abc' })).toBe('wrong');
    for (let i = 0; i < 3; i++) expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code: wrong })).toBe('wrong');
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code: wrong })).toBe('exhausted');
    expect(await codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code })).toBe('missing');
  });

  it('answers the same without sending when told not to deliver, and the cooldown still holds', async () => {
    const p = phone();
    expect(await codes.request({ tenantId: 't1', phone: p, purpose: 'LOGIN', clientIp: '1.1.1.3', deliver: false })).toEqual({ cooldownSeconds: 60 });
    expect(double.messages(p)).toEqual([]);
    await expect(codes.request({ tenantId: 't1', phone: p, purpose: 'LOGIN', clientIp: '1.1.1.3', deliver: true })).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
  });

  it('concurrent verifications of one code: exactly one succeeds', async () => {
    const p = phone();
    await codes.request({ tenantId: 't1', phone: p, purpose: 'LOGIN', clientIp: '1.1.1.4', deliver: true });
    const code = double.lastCode(p)!;
    const results = await Promise.all(Array.from({ length: 5 }, () => codes.verify({ tenantId: 't1', phone: p, purpose: 'LOGIN', code })));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
  });
});
