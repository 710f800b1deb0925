import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRedisKeys } from '@firefly/subgraph-user';
import {
  clientOf,
  codeOf,
  expectOk,
  LOGIN_SMS,
  REQUEST_SMS,
  registerWithPhone,
  requestCode,
  startIdentitySupergraph,
  uniquePhone,
  type IdentitySupergraph,
} from '../../src/identity-helpers.ts';

// Codes live their production 5 minutes: no check here can pass because a code ran out meanwhile. Expiry is shown
// by the code key's Redis TTL, read and checked, and by ending it as that expiry does. Caps are small so they are
// reachable.
const CODE_TTL_SECONDS = 300;
const CAP_PER_PHONE = 3;
const CAP_PER_IP = 4;

let sg: IdentitySupergraph;

beforeAll(async () => {
  sg = await startIdentitySupergraph({
    env: { SMS_CODE_TTL_SECONDS: String(CODE_TTL_SECONDS), SMS_DAILY_CAP_PER_PHONE: String(CAP_PER_PHONE), SMS_DAILY_CAP_PER_IP: String(CAP_PER_IP) },
  });
});
afterAll(async () => {
  await sg?.stop();
});

const codeKey = (phone: string, purpose: 'REGISTER' | 'LOGIN') => userRedisKeys(sg.internalTokenSecret).smsCode('default', phone, purpose);

describe('SMS verification codes', () => {
  it('sends 6 digits through Aliyun SMS, and keeps only a keyed hash in Redis', async () => {
    const client = clientOf(sg);
    const phone = uniquePhone();
    const data = expectOk(await client.call(REQUEST_SMS, { phone, purpose: 'REGISTER' }));
    expect(data.requestSmsCode).toEqual({ cooldownSeconds: 60 });
    const [message] = sg.sms.messages(phone);
    expect(message).toMatchObject({ signName: sg.sms.signName, templateCode: sg.sms.templateCode, params: { code: expect.stringMatching(/^\d{6}$/) } });
    const code = message!.params.code!;
    // Keyed by a hash of tenant and phone, holding only a hash of the code, for the code's lifetime.
    const key = codeKey(phone, 'REGISTER');
    expect(key).not.toContain(phone);
    const stored = await sg.redis.hgetall(key);
    expect(Object.keys(stored).sort()).toEqual(['h', 't']);
    expect(JSON.stringify(stored)).not.toContain(code);
    const ttl = await sg.redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CODE_TTL_SECONDS);
  });

  it('is single use', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const code = await requestCode(sg, client, account.phone, 'LOGIN');
    expectOk(await client.call(LOGIN_SMS, { phone: account.phone, code }));
    const again = await client.call(LOGIN_SMS, { phone: account.phone, code });
    expect(codeOf(again)).toBe('UNAUTHENTICATED');
    expect(again.body.errors?.[0]?.message).toBe('Invalid or expired verification code');
  });

  it('allows 5 tries: after 4 wrong codes the right one still works', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const code = await requestCode(sg, client, account.phone, 'LOGIN');
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 4; i++) expect(codeOf(await client.call(LOGIN_SMS, { phone: account.phone, code: wrong }))).toBe('UNAUTHENTICATED');
    expectOk(await client.call(LOGIN_SMS, { phone: account.phone, code }));
  });

  it('destroys the code at the 5th wrong try: the right one no longer works', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const code = await requestCode(sg, client, account.phone, 'LOGIN');
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 0; i < 5; i++) expect(codeOf(await client.call(LOGIN_SMS, { phone: account.phone, code: wrong }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(LOGIN_SMS, { phone: account.phone, code }))).toBe('UNAUTHENTICATED');
  });

  it('expires', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const code = await requestCode(sg, client, account.phone, 'LOGIN');
    const key = codeKey(account.phone, 'LOGIN');
    const ttl = await sg.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CODE_TTL_SECONDS * 1000);
    // The code's lifetime ends (what the key's expiry does): the very code that was valid is refused.
    expect(await sg.redis.del(key)).toBe(1);
    expect(codeOf(await client.call(LOGIN_SMS, { phone: account.phone, code }))).toBe('UNAUTHENTICATED');
  });

  it('holds a 60 s cooldown per phone, whoever asks', async () => {
    const phone = uniquePhone();
    expectOk(await clientOf(sg).call(REQUEST_SMS, { phone, purpose: 'REGISTER' }));
    const again = await clientOf(sg).call(REQUEST_SMS, { phone, purpose: 'REGISTER' });
    expect(codeOf(again)).toBe('RATE_LIMITED');
    const retryAfter = again.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(sg.sms.messages(phone)).toHaveLength(1);
  });

  it(`caps codes per phone (${CAP_PER_PHONE} a day here)`, async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client); // the REGISTER code is the first of the day
    for (let i = 1; i < CAP_PER_PHONE; i++) {
      // Signing in with a code ends its cooldown, so the next code can be asked for at once.
      const code = await requestCode(sg, clientOf(sg), account.phone, 'LOGIN');
      expectOk(await client.call(LOGIN_SMS, { phone: account.phone, code }));
    }
    const capped = await clientOf(sg).call(REQUEST_SMS, { phone: account.phone, purpose: 'LOGIN' });
    expect(codeOf(capped)).toBe('RATE_LIMITED');
    expect(capped.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(80_000);
    expect(sg.sms.messages(account.phone)).toHaveLength(CAP_PER_PHONE);
  });

  it(`caps codes per client IP (${CAP_PER_IP} a day here), whatever the numbers`, async () => {
    const client = clientOf(sg);
    for (let i = 0; i < CAP_PER_IP; i++) expectOk(await client.call(REQUEST_SMS, { phone: uniquePhone(), purpose: 'REGISTER' }));
    const phone = uniquePhone();
    const capped = await client.call(REQUEST_SMS, { phone, purpose: 'REGISTER' });
    expect(codeOf(capped)).toBe('RATE_LIMITED');
    expect(sg.sms.messages(phone)).toEqual([]);
    // Another IP is not affected.
    expectOk(await clientOf(sg).call(REQUEST_SMS, { phone: uniquePhone(), purpose: 'REGISTER' }));
  });

  it('when Aliyun fails, answers UPSTREAM_UNAVAILABLE and lets the user retry at once', async () => {
    const client = clientOf(sg);
    const phone = uniquePhone();
    sg.sms.injectFault('http-500');
    expect(codeOf(await client.call(REQUEST_SMS, { phone, purpose: 'REGISTER' }))).toBe('UPSTREAM_UNAVAILABLE');
    expectOk(await client.call(REQUEST_SMS, { phone, purpose: 'REGISTER' }));
    expect(sg.sms.messages(phone)).toHaveLength(1);
  });

  it('refuses a number that is not a mainland mobile', async () => {
    const response = await clientOf(sg).call(REQUEST_SMS, { phone: '+1 415 555 0100', purpose: 'REGISTER' });
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
  });
});
