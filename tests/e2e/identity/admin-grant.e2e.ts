import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOf, expectOk, jwtPayload, LOGIN, registerWithEmail, registerWithPhone, startIdentitySupergraph, type IdentitySupergraph } from '../../src/identity-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

const ROOT = join(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** Runs `npm run admin:grant -- …` as an operator would (the script itself, through tsx), against this run's database. */
async function adminGrant(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/admin-grant.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL! },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let sg: IdentitySupergraph;
beforeAll(async () => {
  sg = await startIdentitySupergraph();
  await ensureTenant(sg, 'tenant-g', { name: 'Tenant G' });
});
afterAll(async () => {
  await sg?.stop();
});

// Each case spawns the CLI through tsx (seconds each on a loaded machine): a generous bound, not a speed check.
describe('npm run admin:grant', { timeout: 180_000 }, () => {
  it('makes an account ADMIN for the sessions signed in after it, and says so', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    expect(jwtPayload(account.accessToken).roles).toEqual(['USER']);

    const granted = await adminGrant(account.email.toUpperCase());
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain(`granted ADMIN to user ${account.user.id} of tenant default`);
    expect(granted.stdout).not.toContain(account.email);

    const signedIn = expectOk(await client.call(LOGIN, { input: { login: account.email, password: account.password } })).login;
    expect(jwtPayload(signedIn.accessToken).roles).toEqual(['USER', 'ADMIN']);
    // The session opened before the grant keeps the roles it was issued with.
    expect(jwtPayload(account.accessToken).roles).toEqual(['USER']);

    const again = await adminGrant(account.email);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already an ADMIN');
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: account.user.id } })).roles).toBe('USER,ADMIN');
    // The audit log names the CLI as the actor, once (the repeat changed nothing).
    const audited = await sg.db.auditEvent.findMany({ where: { targetId: account.user.id, action: 'admin:grant' } });
    expect(audited).toMatchObject([{ actor: 'cli:admin-grant', tenantId: 'default', targetType: 'User' }]);
  });

  it('finds a phone account by any way of writing the number', async () => {
    const client = clientOf(sg);
    const account = await registerWithPhone(sg, client);
    const granted = await adminGrant(`+86 ${account.phone.slice(0, 3)}-${account.phone.slice(3)}`);
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain(`granted ADMIN to user ${account.user.id} of tenant default`);
    expect(granted.stdout).not.toContain(account.phone);
    expect((await sg.db.user.findUniqueOrThrow({ where: { id: account.user.id } })).roles).toBe('USER,ADMIN');
  });

  it('grants only inside the tenant it is given, and changes nothing for an unknown account or bad input', async () => {
    const account = await registerWithEmail(clientOf(sg));
    const otherTenant = await adminGrant(account.email, '--tenant', 'tenant-g');
    expect(otherTenant.code).toBe(1);
    expect(otherTenant.stderr).toContain('no account with that email or phone in tenant tenant-g');

    expect((await adminGrant('nobody-here@example.com')).code).toBe(1);
    const invalid = await adminGrant('not a login');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('neither an email address nor a mainland China mobile number');
    const usage = await adminGrant();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run admin:grant');

    expect((await sg.db.user.findUniqueOrThrow({ where: { id: account.user.id } })).roles).toBe('USER');
  });
});
