import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitCounterKey } from '@firefly/server-kit';
import { loginFailureKeys, userRedisKeys } from '@firefly/subgraph-user';
import {
  clientOf,
  codeOf,
  expectOk,
  LOGIN,
  REFRESH,
  REGISTER,
  REQUEST_SMS,
  registerWithEmail,
  startIdentitySupergraph,
  STRONG_PASSWORD,
  uniqueEmail,
  uniquePhone,
  type Client,
  type IdentitySupergraph,
} from '../../src/identity-helpers.ts';
import type { GraphQLResponse } from '../../src/harness.ts';

// No wall clock: every window is far longer than a test can take, even on a starved machine (a window that ran out
// mid-test would let a call through that the test expects refused). "Resets after the window" is shown by what the
// window is — the counter's Redis TTL, read and checked — and by ending it as its expiry does: deleting the key.
const WINDOW_SECONDS = 600;
const ENV = {
  USER_RATE_LIMITS: `Mutation.login=6/${WINDOW_SECONDS},Mutation.register=2/${WINDOW_SECONDS},Mutation.requestSmsCode=2/${WINDOW_SECONDS},Mutation.refreshSession=3/${WINDOW_SECONDS},Mutation.loginWithSmsCode=3/${WINDOW_SECONDS}`,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
  LOGIN_ACCOUNT_WINDOW_SECONDS: String(WINDOW_SECONDS),
  LOGIN_MAX_FAILURES_PER_IP: '4',
  LOGIN_IP_WINDOW_SECONDS: String(WINDOW_SECONDS),
};

let sg: IdentitySupergraph;

beforeAll(async () => {
  sg = await startIdentitySupergraph({ env: ENV });
});
afterAll(async () => {
  await sg?.stop();
});

/** Checks that a counter lives no longer than its window, then ends the window (what the key's expiry does). */
async function endWindow(key: string): Promise<void> {
  const ttl = await sg.redis.pttl(key);
  expect(ttl, key).toBeGreaterThan(0);
  expect(ttl, key).toBeLessThanOrEqual(WINDOW_SECONDS * 1000);
  expect(await sg.redis.del(key)).toBe(1);
}

const loginCounter = (client: Client) => rateLimitCounterKey('user', 'default', `ip:${client.ip}`, 'Mutation.login');
const failureKeys = (login: string, client: Client) => loginFailureKeys(userRedisKeys(sg.internalTokenSecret), 'default', login, client.ip);

function expectLimited(response: GraphQLResponse): number {
  expect(codeOf(response), JSON.stringify(response.body)).toBe('RATE_LIMITED');
  const retryAfter = response.body.errors?.[0]?.extensions?.retryAfterSeconds as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  return retryAfter;
}

const login = (client: Client, email: string, password: string) => client.call(LOGIN, { input: { login: email, password } });

describe('@rateLimit on the sensitive fields (per client IP, counters in Redis)', () => {
  it('login: kicks in after the limit, spares other IPs, and resets after the window', async () => {
    const account = await registerWithEmail(clientOf(sg));
    const client = clientOf(sg);
    for (let i = 0; i < 6; i++) expectOk(await login(client, account.email, account.password));
    expectLimited(await login(client, account.email, account.password));
    expectOk(await login(clientOf(sg), account.email, account.password));
    await endWindow(loginCounter(client));
    expectOk(await login(client, account.email, account.password));
  });

  it('register, requestSmsCode and refreshSession are limited too', async () => {
    const registrant = clientOf(sg);
    for (let i = 0; i < 2; i++) expectOk(await registrant.call(REGISTER, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, displayName: 'R' } }));
    expectLimited(await registrant.call(REGISTER, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, displayName: 'R' } }));

    const texter = clientOf(sg);
    for (let i = 0; i < 2; i++) expectOk(await texter.call(REQUEST_SMS, { phone: uniquePhone(), purpose: 'REGISTER' }));
    const phone = uniquePhone();
    expectLimited(await texter.call(REQUEST_SMS, { phone, purpose: 'REGISTER' }));
    expect(sg.sms.messages(phone)).toEqual([]);

    const account = await registerWithEmail(clientOf(sg));
    const refresher = clientOf(sg);
    let refreshToken = account.refreshToken;
    for (let i = 0; i < 3; i++) refreshToken = expectOk(await refresher.call(REFRESH, { refreshToken })).refreshSession.refreshToken;
    expectLimited(await refresher.call(REFRESH, { refreshToken }));
    // The limited call did not consume the token: it still works from elsewhere.
    expectOk(await clientOf(sg).call(REFRESH, { refreshToken }));
  });

  it('the counters are shared by every replica (a second gateway and user subgraph on the same Redis)', async () => {
    const replica = await startIdentitySupergraph({ env: ENV });
    try {
      const account = await registerWithEmail(clientOf(sg));
      const ip = clientOf(sg).ip;
      for (let i = 0; i < 6; i++) expectOk(await login(clientOf(i % 2 ? sg : replica, { ip }), account.email, account.password));
      expectLimited(await login(clientOf(replica, { ip }), account.email, account.password));
      expectLimited(await login(clientOf(sg, { ip }), account.email, account.password));
    } finally {
      await replica.stop();
    }
  });
});

describe('login failure throttling (rate-limiter-flexible)', () => {
  it('per account: failures from many IPs lock the account for the window, then it works again', async () => {
    const account = await registerWithEmail(clientOf(sg));
    for (let i = 0; i < 3; i++) expect(codeOf(await login(clientOf(sg), account.email, 'wrong password!'))).toBe('UNAUTHENTICATED');
    // Even the right password is refused now, from a fresh IP: the password is not even checked.
    const fresh = clientOf(sg);
    expectLimited(await login(fresh, account.email.toUpperCase(), account.password));
    await endWindow(failureKeys(account.email, fresh).account);
    expectOk(await login(clientOf(sg), account.email, account.password));
  });

  it('per account: a successful sign-in resets the count', async () => {
    const account = await registerWithEmail(clientOf(sg));
    for (let i = 0; i < 2; i++) expect(codeOf(await login(clientOf(sg), account.email, 'wrong password!'))).toBe('UNAUTHENTICATED');
    expectOk(await login(clientOf(sg), account.email, account.password));
    for (let i = 0; i < 2; i++) expect(codeOf(await login(clientOf(sg), account.email, 'wrong password!'))).toBe('UNAUTHENTICATED');
    expectOk(await login(clientOf(sg), account.email, account.password));
  });

  it('per IP: failures against many accounts (known or not) lock that IP only', async () => {
    const account = await registerWithEmail(clientOf(sg));
    const stuffer = clientOf(sg);
    for (let i = 0; i < 4; i++) expect(codeOf(await login(stuffer, uniqueEmail(), 'password guess 1'))).toBe('UNAUTHENTICATED');
    expectLimited(await login(stuffer, account.email, account.password));
    expectOk(await login(clientOf(sg), account.email, account.password));
    await endWindow(failureKeys(account.email, stuffer).ip);
    expectOk(await login(stuffer, account.email, account.password));
  });
});
