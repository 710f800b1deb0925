import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSessionStore, subscribeToSessionRevocations, type SessionRevokedEvent } from '@firefly/auth/sessions';
import { createRedis } from '@firefly/redis';
import {
  clientOf,
  codeOf,
  endGraceWindow,
  expectOk,
  jwtPayload,
  LOGIN,
  ME,
  REFRESH,
  registerWithEmail,
  startIdentitySupergraph,
  type Client,
  type IdentitySupergraph,
  type SignedIn,
} from '../../src/identity-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

let sg: IdentitySupergraph;
let admin: { client: Client; accessToken: string; userId: string };

const MY_SESSIONS = `{ mySessions { id ip userAgent current createdAt lastUsedAt } }`;

beforeAll(async () => {
  sg = await startIdentitySupergraph();
  const client = clientOf(sg);
  const account = await registerWithEmail(client);
  await sg.db.user.update({ where: { id: account.user.id }, data: { roles: 'USER,ADMIN' } });
  const signedIn = expectOk(await client.call(LOGIN, { input: { login: account.email, password: account.password } })).login;
  expect(signedIn.user.roles).toEqual(['USER', 'ADMIN']);
  admin = { client, accessToken: signedIn.accessToken, userId: account.user.id };
});
afterAll(async () => {
  await sg?.stop();
});

async function signInAgain(client: Client, account: { email: string; password: string }): Promise<SignedIn> {
  return expectOk(await client.call(LOGIN, { input: { login: account.email, password: account.password } })).login;
}

describe('refresh tokens', () => {
  it('rotate on every use; the new pair works', async () => {
    const client = clientOf(sg);
    const first = await registerWithEmail(client);
    const second = expectOk(await client.call(REFRESH, { refreshToken: first.refreshToken })).refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(jwtPayload(second.accessToken).sid).toBe(jwtPayload(first.accessToken).sid);
    expect(expectOk(await client.call(ME, {}, second.accessToken)).me.id).toBe(first.user.id);
    const third = expectOk(await client.call(REFRESH, { refreshToken: second.refreshToken })).refreshSession;
    expect(third.user.id).toBe(first.user.id);
    const row = await sg.db.session.findUniqueOrThrow({ where: { id: jwtPayload(first.accessToken).sid as string } });
    expect(row.generation).toBe(3);
    expect(row.refreshTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.refreshTokenHash).not.toContain(third.refreshToken);
  });

  it('presenting an already-used refresh token after the grace window revokes the whole session', async () => {
    const client = clientOf(sg);
    const first = await registerWithEmail(client);
    const second = expectOk(await client.call(REFRESH, { refreshToken: first.refreshToken })).refreshSession;
    await endGraceWindow(sg, first.refreshToken);
    const replay = await client.call(REFRESH, { refreshToken: first.refreshToken });
    expect(codeOf(replay)).toBe('UNAUTHENTICATED');
    // The legitimate holder's newer tokens die with the session.
    expect(codeOf(await client.call(REFRESH, { refreshToken: second.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(ME, {}, second.accessToken))).toBe('UNAUTHENTICATED');
    const row = await sg.db.session.findUniqueOrThrow({ where: { id: jwtPayload(first.accessToken).sid as string } });
    expect(row.revokedReason).toBe('refresh-token-reuse');
  });

  it('two concurrent refreshes with one token (two tabs): one rotation, both get its new refresh token', async () => {
    const client = clientOf(sg);
    const first = await registerWithEmail(client);
    const results = await Promise.all([client.call(REFRESH, { refreshToken: first.refreshToken }), client.call(REFRESH, { refreshToken: first.refreshToken })]);
    const [a, b] = results.map((r) => expectOk(r).refreshSession);
    expect(a.refreshToken).toBe(b.refreshToken);
    for (const token of [a.accessToken, b.accessToken]) expect(expectOk(await client.call(ME, {}, token)).me.id).toBe(first.user.id);
    const row = await sg.db.session.findUniqueOrThrow({ where: { id: jwtPayload(first.accessToken).sid as string } });
    expect(row.generation).toBe(2);
    expectOk(await client.call(REFRESH, { refreshToken: a.refreshToken }));
  });

  it('refuses malformed, unknown and other-tenant refresh tokens', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    await ensureTenant(sg, 'tenant-b', { name: 'Tenant B' });
    for (const refreshToken of ['nonsense', `ffr_${'A'.repeat(43)}`]) expect(codeOf(await client.call(REFRESH, { refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await clientOf(sg, { tenant: 'tenant-b' }).call(REFRESH, { refreshToken: account.refreshToken }))).toBe('UNAUTHENTICATED');
    // Still valid in its own tenant: a foreign tenant cannot burn it.
    expectOk(await client.call(REFRESH, { refreshToken: account.refreshToken }));
  });
});

describe('revocation takes effect on the very next request', () => {
  it('logout ends the current session only', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const other = await signInAgain(clientOf(sg), account);
    expect(expectOk(await client.call(`mutation { logout }`, {}, account.accessToken)).logout).toBe(true);
    expect(codeOf(await client.call(ME, {}, account.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(REFRESH, { refreshToken: account.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(expectOk(await client.call(ME, {}, other.accessToken)).me.id).toBe(account.user.id);
  });

  it('mySessions lists the live sessions; revokeSession ends one of them', async () => {
    const laptop = clientOf(sg);
    const phone = clientOf(sg);
    const account = await registerWithEmail(laptop);
    const onPhone = await signInAgain(phone, account);
    const sessions = expectOk(await laptop.call(MY_SESSIONS, {}, account.accessToken)).mySessions as Array<{ id: string; ip: string; current: boolean }>;
    expect(sessions).toHaveLength(2);
    const phoneSessionId = jwtPayload(onPhone.accessToken).sid as string;
    expect(sessions.find((s) => s.current)?.id).toBe(jwtPayload(account.accessToken).sid);
    expect(sessions.find((s) => s.id === phoneSessionId)?.ip).toBe(phone.ip);

    expect(expectOk(await laptop.call(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: phoneSessionId }, account.accessToken)).revokeSession).toBe(true);
    expect(codeOf(await phone.call(ME, {}, onPhone.accessToken))).toBe('UNAUTHENTICATED');
    expect(expectOk(await laptop.call(MY_SESSIONS, {}, account.accessToken)).mySessions).toHaveLength(1);
  });

  it("revokeSession cannot touch another user's session (answers NOT_FOUND)", async () => {
    const victim = await registerWithEmail(clientOf(sg));
    const attacker = await registerWithEmail(clientOf(sg));
    const response = await clientOf(sg).call(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: jwtPayload(victim.accessToken).sid }, attacker.accessToken);
    expect(codeOf(response)).toBe('NOT_FOUND');
    expectOk(await clientOf(sg).call(ME, {}, victim.accessToken));
  });

  it('suspension signs the user out everywhere and keeps them out until reactivated', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const second = await signInAgain(clientOf(sg), account);
    const suspend = `mutation($id: ID!, $s: UserStatus!) { setUserStatus(userId: $id, status: $s) { id status } }`;
    expect(expectOk(await admin.client.call(suspend, { id: account.user.id, s: 'SUSPENDED' }, admin.accessToken)).setUserStatus.status).toBe('SUSPENDED');
    for (const token of [account.accessToken, second.accessToken]) expect(codeOf(await client.call(ME, {}, token))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(REFRESH, { refreshToken: second.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(LOGIN, { input: { login: account.email, password: account.password } }))).toBe('FORBIDDEN');

    expectOk(await admin.client.call(suspend, { id: account.user.id, s: 'ACTIVE' }, admin.accessToken));
    await signInAgain(client, account);
  });

  it('a password change signs out every other session, not the current one', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const elsewhere = await signInAgain(clientOf(sg), account);
    const change = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    expectOk(await client.call(change, { c: account.password, n: 'a brand new passphrase' }, account.accessToken));
    expect(codeOf(await client.call(ME, {}, elsewhere.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client.call(REFRESH, { refreshToken: elsewhere.refreshToken }))).toBe('UNAUTHENTICATED');
    expectOk(await client.call(ME, {}, account.accessToken));
  });

  it('role changes apply to live sessions at once (roles come from the session, not the token)', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const users = `{ users(first: 1) { edges { node { id } } } }`;
    expect(codeOf(await client.call(users, {}, account.accessToken))).toBe('FORBIDDEN');
    const setRoles = `mutation($id: ID!, $r: [Role!]!) { setUserRoles(userId: $id, roles: $r) { id roles } }`;
    expect(expectOk(await admin.client.call(setRoles, { id: account.user.id, r: ['ADMIN'] }, admin.accessToken)).setUserRoles.roles).toEqual(['USER', 'ADMIN']);
    expectOk(await client.call(users, {}, account.accessToken));
    expectOk(await admin.client.call(setRoles, { id: account.user.id, r: ['USER'] }, admin.accessToken));
    expect(codeOf(await client.call(users, {}, account.accessToken))).toBe('FORBIDDEN');
  });

  it('an admin cannot demote or suspend themself', async () => {
    const demote = await admin.client.call(`mutation($id: ID!) { setUserRoles(userId: $id, roles: [USER]) { id } }`, { id: admin.userId }, admin.accessToken);
    expect(codeOf(demote)).toBe('BAD_USER_INPUT');
    const suspend = await admin.client.call(`mutation($id: ID!) { setUserStatus(userId: $id, status: SUSPENDED) { id } }`, { id: admin.userId }, admin.accessToken);
    expect(codeOf(suspend)).toBe('BAD_USER_INPUT');
  });
});

/** A graphql-ws connection to the gateway, acknowledged; resolves `closed` with the close code and reason. */
async function openSocket(token: string, ip: string): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(sg.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-forwarded-for': ip } });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'connection_ack') resolve();
    });
    void closed.then(({ code, reason }) => reject(new Error(`closed before ack: ${code} ${reason}`)));
  });
  return { socket, closed };
}

describe('revocation reaches open graphql-ws connections', () => {
  it('logout, revokeSession and suspension close the sockets of the affected sessions at once (4403)', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const second = await signInAgain(clientOf(sg), account);
    const third = await signInAgain(clientOf(sg), account);
    const bystander = await registerWithEmail(clientOf(sg));
    const sockets = {
      first: await openSocket(account.accessToken, client.ip),
      second: await openSocket(second.accessToken, client.ip),
      third: await openSocket(third.accessToken, client.ip),
      bystander: await openSocket(bystander.accessToken, client.ip),
    };
    const within = <T>(promise: Promise<T>) => Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('socket stayed open')), 3_000))]);

    expectOk(await client.call(`mutation { logout }`, {}, account.accessToken));
    expect(await within(sockets.first.closed)).toEqual({ code: 4403, reason: 'Session revoked' });

    expectOk(await client.call(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: jwtPayload(second.accessToken).sid }, third.accessToken));
    expect((await within(sockets.second.closed)).code).toBe(4403);

    const suspend = `mutation($id: ID!) { setUserStatus(userId: $id, status: SUSPENDED) { id } }`;
    expectOk(await admin.client.call(suspend, { id: account.user.id }, admin.accessToken));
    expect((await within(sockets.third.closed)).code).toBe(4403);

    expect(sockets.bystander.socket.readyState).toBe(WebSocket.OPEN);
    sockets.bystander.socket.close();
  });

  it('refuses a revoked token at connection_init', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    expectOk(await client.call(`mutation { logout }`, {}, account.accessToken));
    await expect(openSocket(account.accessToken, client.ip)).rejects.toThrow(/closed before ack: 44\d\d/);
  });
});

describe('revocation reaches open connections', () => {
  // The gateway's graphql-ws server is issue #6; it closes a socket when its session is revoked by listening on the
  // revocation channel and re-checking isSessionLive. This pins down that contract end to end.
  it('announces every revocation on the Redis channel, and isSessionLive turns false', async () => {
    const subscriber = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: process.env.REDIS_KEY_PREFIX, name: 'e2e-subscriber' });
    const events: SessionRevokedEvent[] = [];
    const subscription = await subscribeToSessionRevocations(subscriber, (event) => events.push(event));
    try {
      const client = clientOf(sg);
      const account = await registerWithEmail(client);
      const sessionId = jwtPayload(account.accessToken).sid as string;
      const store = createSessionStore(sg.redis);
      expect(await store.isSessionLive(sessionId, { userId: account.user.id, tenantId: 'default' })).toBe(true);
      expectOk(await client.call(`mutation { logout }`, {}, account.accessToken));
      expect(await store.isSessionLive(sessionId)).toBe(false);
      await expect.poll(() => events.find((e) => e.sessionId === sessionId)).toEqual({ sessionId, userId: account.user.id, tenantId: 'default', reason: 'logout' });
    } finally {
      await subscription.close();
      subscriber.disconnect();
    }
  });
});
