import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import {
  clientOf,
  codeOf,
  endGraceWindow,
  expectOk,
  LOGIN,
  LOGIN_SMS,
  ME,
  REFRESH,
  REGISTER,
  REQUEST_SMS,
  requestCode,
  startIdentitySupergraph,
  STRONG_PASSWORD,
  uniqueEmail,
  uniquePhone,
  type IdentitySupergraph,
} from '../../src/identity-helpers.ts';

// Every process's pino output, captured at the most verbose level while the identity flows run.
const lines: string[] = [];
let sg: IdentitySupergraph;

beforeAll(async () => {
  const logger = createLogger({ service: 'e2e', level: 'trace', destination: { write: (line: string) => void lines.push(line) } });
  sg = await startIdentitySupergraph({ logger });
});
afterAll(async () => {
  await sg?.stop();
});

describe('logs', () => {
  it('never contain a password, token, SMS code, email address or full phone number', async () => {
    const secrets: string[] = [];
    const client = clientOf(sg);
    const password = 'Unique-Passw0rd-For-The-Log-Test';
    const newPassword = 'Another-Unique-Passw0rd-4-Logs';
    const email = uniqueEmail();
    const registered = expectOk(await client.call(REGISTER, { input: { email, password, displayName: 'Logged' } })).register;
    secrets.push(password, registered.accessToken, registered.refreshToken);

    expect(codeOf(await client.call(LOGIN, { input: { login: email, password: 'Wrong-Passw0rd-In-Logs?' } }))).toBe('UNAUTHENTICATED');
    secrets.push('Wrong-Passw0rd-In-Logs?');
    const loggedIn = expectOk(await client.call(LOGIN, { input: { login: email, password } })).login;
    const refreshed = expectOk(await client.call(REFRESH, { refreshToken: loggedIn.refreshToken })).refreshSession;
    await endGraceWindow(sg, loggedIn.refreshToken);
    expect(codeOf(await client.call(REFRESH, { refreshToken: loggedIn.refreshToken }))).toBe('UNAUTHENTICATED'); // reuse: logged as a warning
    secrets.push(loggedIn.accessToken, loggedIn.refreshToken, refreshed.accessToken, refreshed.refreshToken);
    const change = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    expectOk(await client.call(change, { c: password, n: newPassword }, registered.accessToken));
    secrets.push(newPassword);

    const phone = uniquePhone();
    const registerCode = await requestCode(sg, client, phone, 'REGISTER');
    const phoneUser = expectOk(await client.call(REGISTER, { input: { phone, smsCode: registerCode, password: STRONG_PASSWORD, displayName: 'Phone' } })).register;
    const loginCode = await requestCode(sg, client, phone, 'LOGIN');
    expect(codeOf(await client.call(LOGIN_SMS, { phone, code: '000000' === loginCode ? '111111' : '000000' }))).toBe('UNAUTHENTICATED');
    const bySms = expectOk(await client.call(LOGIN_SMS, { phone, code: loginCode })).loginWithSmsCode;
    expectOk(await client.call(ME, {}, bySms.accessToken));
    expectOk(await client.call(`mutation { logout }`, {}, bySms.accessToken));
    expect(codeOf(await client.call(ME, {}, bySms.accessToken))).toBe('UNAUTHENTICATED');
    sg.sms.injectFault('http-500');
    const failedPhone = uniquePhone();
    expect(codeOf(await client.call(REQUEST_SMS, { phone: failedPhone, purpose: 'REGISTER' }))).toBe('UPSTREAM_UNAVAILABLE');
    secrets.push(email, phone, failedPhone, registerCode, loginCode, phoneUser.accessToken, phoneUser.refreshToken, bySms.accessToken, bySms.refreshToken, STRONG_PASSWORD);

    // A forged credential straight to a subgraph is logged (without the credential).
    const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    await fetch(sg.subgraphUrls.user, { method: 'POST', headers: { 'content-type': 'application/json', 'x-firefly-credential': forged }, body: '{"query":"{ me { id } }"}' });
    secrets.push(forged);

    const output = lines.join('');
    // Not vacuous: the flows above did log, including the masked phone numbers.
    expect(output).toContain('registered a user');
    expect(output).toContain('sent an SMS code');
    expect(output).toContain('refresh token replayed');
    expect(output).toContain('SMS code not sent');
    expect(output).toContain(`${phone.slice(0, 3)}****${phone.slice(-4)}`);
    for (const secret of secrets) expect(output.includes(secret), `a secret reached the logs: ${secret.slice(0, 6)}…`).toBe(false);
    // No 11-digit mainland number at all, whichever it is (hex neighbours excluded: request ids are UUIDs).
    expect(output).not.toMatch(/(?<![0-9a-fA-F])1[3-9]\d{9}(?![0-9a-fA-F])/);
    // No JWT-shaped string, no refresh token.
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
    expect(output).not.toMatch(/ffr_[A-Za-z0-9_-]{20,}/);
  });
});
