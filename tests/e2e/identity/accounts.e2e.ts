import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientOf,
  codeOf,
  expectOk,
  LOGIN,
  LOGIN_SMS,
  ME,
  REGISTER,
  registerWithEmail,
  registerWithPhone,
  requestCode,
  startIdentitySupergraph,
  STRONG_PASSWORD,
  uniqueEmail,
  uniquePhone,
  type IdentitySupergraph,
} from '../../src/identity-helpers.ts';
import { emailIndexOf } from '../../src/pii.ts';
import { ensureTenant } from '../../src/tenants.ts';

let sg: IdentitySupergraph;

beforeAll(async () => {
  sg = await startIdentitySupergraph();
  await ensureTenant(sg, 'tenant-b', { name: 'Tenant B' });
});
afterAll(async () => {
  await sg?.stop();
});

describe('sign-up and sign-in with email and password', () => {
  it('registers, signs the new user in at once, and books the sign-up grant of 100 credits', async () => {
    const client = clientOf(sg);
    const email = uniqueEmail('Mixed.Case');
    const data = expectOk(await client.call(REGISTER, { input: { email: `  ${email.toUpperCase()} `, password: STRONG_PASSWORD, displayName: '  萤火 用户 ' } }));
    const payload = data.register;
    expect(payload.expiresIn).toBe(900);
    expect(payload.refreshToken).toMatch(/^ffr_[A-Za-z0-9_-]{43}$/);
    expect(payload.user).toMatchObject({ email: email.toLowerCase(), phone: null, displayName: '萤火 用户', roles: ['USER'], status: 'ACTIVE' });

    const me = expectOk(await client.call(`{ me { id email creditBalance { available reserved } } }`, {}, payload.accessToken));
    expect(me.me).toEqual({ id: payload.user.id, email: email.toLowerCase(), creditBalance: { available: 100, reserved: 0 } });
    const ledger = await sg.db.ledgerEntry.findMany({ where: { userId: payload.user.id } });
    expect(ledger.map((e) => [e.reason, e.delta])).toEqual([['GRANT', 100]]);
    const credential = await sg.db.credential.findFirstOrThrow({ where: { userId: payload.user.id } });
    expect(credential.secretHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it('signs in with the email (any case) and the password', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const data = expectOk(await client.call(LOGIN, { input: { login: account.email.toUpperCase(), password: account.password } }));
    expect(data.login.user.id).toBe(account.user.id);
    expect(expectOk(await client.call(ME, {}, data.login.accessToken)).me.id).toBe(account.user.id);
  });

  it('refuses a wrong password, an unknown account and a malformed login with the same error', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const attempts = [
      { login: account.email, password: 'not the password at all' },
      { login: uniqueEmail(), password: STRONG_PASSWORD },
      { login: uniquePhone(), password: STRONG_PASSWORD },
      { login: 'neither an email nor a phone', password: STRONG_PASSWORD },
    ];
    const answers = [];
    for (const input of attempts) {
      const response = await client.call(LOGIN, { input });
      expect(response.body.data ?? null).toBeNull();
      answers.push({ code: codeOf(response), message: response.body.errors?.[0]?.message });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid login or password' });
  });

  it('spends about as long on an unknown account as on a wrong password (argon2 against a dummy hash)', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const time = async (login: string) => {
      const started = performance.now();
      await client.call(LOGIN, { input: { login, password: 'wrong password 123' } });
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 6; i++) {
      known.push(await time(account.email));
      unknown.push(await time(uniqueEmail()));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Without the dummy verification the unknown account would answer in a fraction of the time (no argon2 at all).
    // Loose bounds: other test files run in parallel and add noise, while the difference guarded against is ~10×.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(unknown)).toBeLessThan(median(known) * 2.5);
  });

  it('enforces the password policy with a precise reason', async () => {
    const client = clientOf(sg);
    const cases: Array<[string, string]> = [
      ['short', 'TOO_SHORT'],
      ['x'.repeat(129), 'TOO_LONG'],
      ['password123', 'TOO_COMMON'],
      ['abababababab', 'TOO_SIMPLE'],
    ];
    for (const [password, reason] of cases) {
      const response = await client.call(REGISTER, { input: { email: uniqueEmail(), password, displayName: 'P' } });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ field: 'password', reason });
    }
    const email = uniqueEmail('zhangwei');
    const own = await client.call(REGISTER, { input: { email, password: `${email.split('@')[0]}!2025`, displayName: 'Z' } });
    expect(own.body.errors?.[0]?.extensions).toMatchObject({ reason: 'CONTAINS_IDENTIFIER' });
    const missing = await client.call(REGISTER, { input: { email: uniqueEmail(), displayName: 'No password' } });
    expect(missing.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    const invalid = await client.call(REGISTER, { input: { email: 'not-an-email', password: STRONG_PASSWORD, displayName: 'X' } });
    expect(invalid.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });

  it('refuses a second account with the same email (database constraint) without naming the field', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const again = await client.call(REGISTER, { input: { email: account.email.toUpperCase(), password: STRONG_PASSWORD, displayName: 'Again' } });
    expect(codeOf(again)).toBe('CONFLICT');
    expect(again.body.errors?.[0]?.message).not.toMatch(/email|exists|taken/i);
    expect(await sg.db.user.count({ where: { emailIndex: emailIndexOf(account.email) } })).toBe(1);
  });

  it('creates exactly one account when the same email registers twice at once', async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      [0, 1, 2].map(() => clientOf(sg).call(REGISTER, { input: { email, password: STRONG_PASSWORD, displayName: 'Race' } })),
    );
    expect(results.filter((r) => !r.body.errors)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'CONFLICT')).toHaveLength(2);
    expect(await sg.db.user.count({ where: { emailIndex: emailIndexOf(email) } })).toBe(1);
  });
});

describe('sign-up and sign-in with phone and SMS code', () => {
  it('registers with a phone and a code, and the phone is shown in full only to its owner', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    expect(account.user).toMatchObject({ phone: account.phone, email: null, roles: ['USER'] });
    const me = expectOk(await client.call(`{ me { phone creditBalance { available } } }`, {}, account.accessToken));
    expect(me.me).toEqual({ phone: account.phone, creditBalance: { available: 100 } });
    // Without a password, a password sign-in fails like any other.
    expect(codeOf(await client.call(LOGIN, { input: { login: account.phone, password: STRONG_PASSWORD } }))).toBe('UNAUTHENTICATED');
  });

  it('signs in with an SMS code, and with the optional password set at registration', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client, { password: STRONG_PASSWORD });
    const code = await requestCode(sg, client, `+86 ${account.phone}`, 'LOGIN');
    const bySms = expectOk(await client.call(LOGIN_SMS, { phone: account.phone, code }));
    expect(bySms.loginWithSmsCode.user.id).toBe(account.user.id);
    const byPassword = expectOk(await client.call(LOGIN, { input: { login: `+86${account.phone}`, password: STRONG_PASSWORD } }));
    expect(byPassword.login.user.id).toBe(account.user.id);
  });

  it('needs a code that was sent for registration to this phone', async () => {
    const client = clientOf(sg);
    const phone = uniquePhone();
    const noCode = await client.call(REGISTER, { input: { phone, displayName: 'X' } });
    expect(noCode.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'smsCode' });
    const wrong = await client.call(REGISTER, { input: { phone, smsCode: '000000', displayName: 'X' } });
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'smsCode' });
    const badNumber = await client.call(REGISTER, { input: { phone: '12345', smsCode: '000000', displayName: 'X' } });
    expect(badNumber.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
  });

  it('answers an SMS request for an unregistered number exactly like a registered one, but sends nothing', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const stranger = uniquePhone();
    const known = await client.call(`mutation($p: String!) { requestSmsCode(phone: $p, purpose: LOGIN) { cooldownSeconds } }`, { p: account.phone });
    const unknown = await client.call(`mutation($p: String!) { requestSmsCode(phone: $p, purpose: LOGIN) { cooldownSeconds } }`, { p: stranger });
    expect(unknown.body).toEqual(known.body);
    expect(sg.sms.messages(stranger)).toEqual([]);
    // And a REGISTER code is not sent to a number that already has an account.
    const before = sg.sms.messages(account.phone).length;
    const registerAgain = clientOf(sg);
    await registerAgain.call(`mutation($p: String!) { requestSmsCode(phone: $p, purpose: REGISTER) { cooldownSeconds } }`, { p: account.phone });
    expect(sg.sms.messages(account.phone)).toHaveLength(before);
  });
});

describe('profile and password', () => {
  it('updates the display name and avatar', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const mutation = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName avatarUrl } }`;
    const data = expectOk(await client.call(mutation, { input: { displayName: '新名字', avatarUrl: 'https://cdn.example.com/a.png' } }, account.accessToken));
    expect(data.updateProfile).toEqual({ id: account.user.id, displayName: '新名字', avatarUrl: 'https://cdn.example.com/a.png' });
    const bad = await client.call(mutation, { input: { avatarUrl: 'javascript:alert(1)' } }, account.accessToken);
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'avatarUrl' });
    expect(codeOf(await client.call(mutation, { input: { displayName: 'x' } }))).toBe('UNAUTHENTICATED');
  });

  it('changes the password: the old one stops working, the new one works, the policy applies', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const change = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    const wrong = await client.call(change, { c: 'not my password', n: 'another good passphrase' }, account.accessToken);
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const weak = await client.call(change, { c: account.password, n: '12345678' }, account.accessToken);
    expect(weak.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword', reason: 'TOO_COMMON' });
    expect(expectOk(await client.call(change, { c: account.password, n: 'another good passphrase' }, account.accessToken)).changePassword).toBe(true);
    expect(codeOf(await client.call(LOGIN, { input: { login: account.email, password: account.password } }))).toBe('UNAUTHENTICATED');
    expectOk(await client.call(LOGIN, { input: { login: account.email, password: 'another good passphrase' } }));
  });
});

describe('tenants', () => {
  it('a user of one tenant cannot sign in to another, and the same email may exist in both', async () => {
    const inDefault = clientOf(sg);
    const inB = clientOf(sg, { tenant: 'tenant-b' });
    const account = await registerWithEmail(inDefault);
    expect(codeOf(await inB.call(LOGIN, { input: { login: account.email, password: account.password } }))).toBe('UNAUTHENTICATED');
    // A token of the default tenant is refused under tenant B.
    expect(codeOf(await inB.call(ME, {}, account.accessToken))).toBe('UNAUTHENTICATED');
    // Tenant B has its own accounts: the same email registers there as a different user.
    const other = expectOk(await inB.call(REGISTER, { input: { email: account.email, password: STRONG_PASSWORD, displayName: 'B' } }));
    expect(other.register.user.id).not.toBe(account.user.id);
    expect(expectOk(await inB.call(ME, {}, other.register.accessToken)).me.id).toBe(other.register.user.id);
    const row = await sg.db.user.findUniqueOrThrow({ where: { id: other.register.user.id } });
    expect(row.tenantId).toBe('tenant-b');
  });

  it('refuses to register in a tenant that does not exist', async () => {
    const client = clientOf(sg, { tenant: 'no-such-tenant' });
    const response = await client.call(REGISTER, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, displayName: 'X' } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });
});
