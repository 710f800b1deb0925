// Sessions under races (issue 10, item 2), driven step by step through the user subgraph's session hook (it runs
// after a refresh rotated its token in MySQL and before it saves the live record in Redis), never by sleeping:
// - a revocation landing in that gap sticks: the refresh cannot write the session back;
// - a second tab refreshing with the same token in that gap shares the rotation instead of being taken for a thief.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientOf,
  codeOf,
  expectOk,
  jwtPayload,
  LOGIN,
  ME,
  REFRESH,
  registerWithEmail,
  startIdentitySupergraph,
  type IdentitySupergraph,
} from '../../src/identity-helpers.ts';

let sg: IdentitySupergraph;
/** What the hook does for the session under test; every other session passes straight through. */
const paused = new Map<string, () => Promise<void>>();

beforeAll(async () => {
  sg = await startIdentitySupergraph({ userHooks: { afterRefreshRotated: async (sessionId) => paused.get(sessionId)?.() } });
});
afterAll(async () => {
  await sg?.stop();
});

/** Runs `during` while a refresh of `sessionId` sits between its rotation and its save. */
function whileRotating(sessionId: string, during: () => Promise<void>): { done: Promise<void> } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  paused.set(sessionId, async () => {
    paused.delete(sessionId);
    try {
      await during();
    } finally {
      finish();
    }
  });
  return { done };
}

const liveRecord = (sessionId: string) => sg.redis.get(`session:${sessionId}`);

describe('a revocation no concurrent refresh can undo', () => {
  it('logout while the same session refreshes: the refresh is refused and the session stays dead', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const sessionId = jwtPayload(account.accessToken).sid as string;
    const step = whileRotating(sessionId, async () => {
      expect(expectOk(await client.call(`mutation { logout }`, {}, account.accessToken)).logout).toBe(true);
    });

    const refresh = await client.call(REFRESH, { refreshToken: account.refreshToken });
    await step.done;
    expect(codeOf(refresh)).toBe('UNAUTHENTICATED');
    expect(await liveRecord(sessionId)).toBeNull();
    expect(codeOf(await client.call(ME, {}, account.accessToken))).toBe('UNAUTHENTICATED');
    expect((await sg.db.session.findUniqueOrThrow({ where: { id: sessionId } })).revokedReason).toBe('logout');
  });

  it('suspension (sign-out everywhere) while a session refreshes: no session survives', async () => {
    const admin = await registerWithEmail(clientOf(sg));
    await sg.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
    const adminToken = expectOk(await clientOf(sg).call(LOGIN, { input: { login: admin.email, password: admin.password } })).login.accessToken as string;
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const other = expectOk(await clientOf(sg).call(LOGIN, { input: { login: account.email, password: account.password } })).login;
    const sessionId = jwtPayload(account.accessToken).sid as string;
    const suspend = `mutation($id: ID!) { setUserStatus(userId: $id, status: SUSPENDED) { status } }`;
    const step = whileRotating(sessionId, async () => {
      expectOk(await clientOf(sg).call(suspend, { id: account.user.id }, adminToken));
    });

    const refresh = await client.call(REFRESH, { refreshToken: account.refreshToken });
    await step.done;
    expect(codeOf(refresh)).toBe('UNAUTHENTICATED');
    for (const id of [sessionId, jwtPayload(other.accessToken).sid as string]) expect(await liveRecord(id)).toBeNull();
    for (const token of [account.accessToken, other.accessToken]) expect(codeOf(await client.call(ME, {}, token))).toBe('UNAUTHENTICATED');
  });
});

describe('two tabs refreshing at once', () => {
  it('the second refresh, arriving while the first rotates, gets the same new refresh token and nobody is signed out', async () => {
    const tab = clientOf(sg);
    const account = await registerWithEmail(tab);
    const sessionId = jwtPayload(account.accessToken).sid as string;
    let second: Record<string, any> | undefined;
    const step = whileRotating(sessionId, async () => {
      second = expectOk(await tab.call(REFRESH, { refreshToken: account.refreshToken })).refreshSession;
    });

    const first = expectOk(await tab.call(REFRESH, { refreshToken: account.refreshToken })).refreshSession;
    await step.done;
    expect(second?.refreshToken).toBe(first.refreshToken);
    for (const token of [first.accessToken, second?.accessToken]) expect(expectOk(await tab.call(ME, {}, token)).me.id).toBe(account.user.id);
    const row = await sg.db.session.findUniqueOrThrow({ where: { id: sessionId } });
    expect([row.generation, row.revokedAt]).toEqual([2, null]);
    // The shared token is the session's current one: it rotates once more like any other.
    expectOk(await tab.call(REFRESH, { refreshToken: first.refreshToken }));
  });

  it('a refresh token stolen and replayed within the window gets nothing once the session is revoked', async () => {
    const tab = clientOf(sg);
    const account = await registerWithEmail(tab);
    const rotated = expectOk(await tab.call(REFRESH, { refreshToken: account.refreshToken })).refreshSession;
    expectOk(await tab.call(`mutation { logout }`, {}, rotated.accessToken));
    expect(codeOf(await clientOf(sg).call(REFRESH, { refreshToken: account.refreshToken }))).toBe('UNAUTHENTICATED');
  });
});
