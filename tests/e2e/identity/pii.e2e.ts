// Personal data at rest: users' emails and phones are stored sealed (AES-256-GCM envelopes) and found through
// blind indexes. Read straight from the table with SQL, as someone holding a database dump would.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientOf,
  codeOf,
  expectOk,
  LOGIN,
  LOGIN_SMS,
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
import { emailIndexOf, phoneIndexOf } from '../../src/pii.ts';

let sg: IdentitySupergraph;
beforeAll(async () => {
  sg = await startIdentitySupergraph();
});
afterAll(async () => {
  await sg?.stop();
});

type RawUser = { id: string; email: string | null; phone: string | null; emailCiphertext: string | null; phoneCiphertext: string | null; emailIndex: string | null; phoneIndex: string | null };

/** The row as stored, every column as text. */
async function rawUser(id: string): Promise<RawUser & { everything: string }> {
  const [row] = await sg.db.$queryRaw<Record<string, unknown>[]>`SELECT * FROM \`User\` WHERE id = ${id}`;
  expect(row, `user ${id}`).toBeDefined();
  return { ...(row as RawUser), everything: JSON.stringify(Object.values(row!).map(String)) };
}

/** A row as a release before PII encryption wrote it: email and phone in the clear columns. */
async function insertLegacyUser(contact: { email?: string; phone?: string }): Promise<string> {
  const id = randomUUID();
  await sg.db.$executeRaw`INSERT INTO \`User\` (id, tenantId, displayName, email, phone, roles, status, updatedAt)
    VALUES (${id}, 'default', 'Legacy', ${contact.email ?? null}, ${contact.phone ?? null}, 'USER', 'ACTIVE', NOW(3))`;
  return id;
}

describe('emails and phones at rest', () => {
  it('registration stores neither in clear: sealed under the key id, indexed by keyed hash', async () => {
    const client = clientOf(sg);
    const byEmail = await registerWithEmail(client);
    const byPhone = await registerWithPhone(sg, client);
    for (const [account, clear] of [
      [byEmail, byEmail.email],
      [byPhone, byPhone.phone],
    ] as const) {
      const row = await rawUser(account.user.id);
      expect(row.everything).not.toContain(clear);
      expect(row.everything.toLowerCase()).not.toContain(clear.toLowerCase());
      expect(row.email).toBeNull();
      expect(row.phone).toBeNull();
    }
    const emailRow = await rawUser(byEmail.user.id);
    expect(emailRow.emailCiphertext).toMatch(/^p1\.dev\.[\w-]+\.[\w-]+$/);
    expect(emailRow.emailIndex).toBe(emailIndexOf(byEmail.email));
    expect(emailRow.phoneCiphertext).toBeNull();
    const phoneRow = await rawUser(byPhone.user.id);
    expect(phoneRow.phoneCiphertext).toMatch(/^p1\.dev\./);
    expect(phoneRow.phoneIndex).toBe(phoneIndexOf(byPhone.phone));
    // The API still answers the owner in clear.
    expect(byEmail.user.email).toBe(byEmail.email);
    expect(byPhone.user.phone).toBe(byPhone.phone);
  });

  it('sign-in by email (any case), by phone and password, and by SMS code finds the sealed account', async () => {
    const client = clientOf(sg);
    const byEmail = await registerWithEmail(client);
    const signedIn = expectOk(await client.call(LOGIN, { input: { login: `  ${byEmail.email.toUpperCase()} `, password: byEmail.password } })).login;
    expect(signedIn.user).toMatchObject({ id: byEmail.user.id, email: byEmail.email });

    const phone = uniquePhone();
    const code = await requestCode(sg, client, phone);
    const registered = expectOk(await client.call(REGISTER, { input: { phone, smsCode: code, password: STRONG_PASSWORD, displayName: 'Phone' } })).register;
    const withPassword = expectOk(await client.call(LOGIN, { input: { login: `+86 ${phone.slice(0, 3)}-${phone.slice(3)}`, password: STRONG_PASSWORD } })).login;
    expect(withPassword.user).toMatchObject({ id: registered.user.id, phone });
    const loginCode = await requestCode(sg, client, phone, 'LOGIN');
    expect(expectOk(await client.call(LOGIN_SMS, { phone, code: loginCode })).loginWithSmsCode.user.id).toBe(registered.user.id);
  });

  it('a taken email or phone is refused with CONFLICT, whether its row is sealed or still a clear legacy row', async () => {
    const client = clientOf(sg);
    const sealed = await registerWithEmail(client);
    expect(codeOf(await client.call(REGISTER, { input: { email: sealed.email.toUpperCase(), password: STRONG_PASSWORD, displayName: 'Again' } }))).toBe('CONFLICT');

    const legacyEmail = uniqueEmail('legacy');
    await insertLegacyUser({ email: legacyEmail });
    expect(codeOf(await client.call(REGISTER, { input: { email: legacyEmail, password: STRONG_PASSWORD, displayName: 'Again' } }))).toBe('CONFLICT');
    const legacyPhone = uniquePhone();
    await insertLegacyUser({ phone: legacyPhone });
    // A legacy phone is a registered phone: no REGISTER code is sent for it (same answer, nothing delivered).
    expectOk(await client.call(`mutation($p: String!) { requestSmsCode(phone: $p, purpose: REGISTER) { cooldownSeconds } }`, { p: legacyPhone }));
    expect(sg.sms.lastCode(legacyPhone)).toBeUndefined();
  });
});
