import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createSessionStore, sessionRevokedChannel, subscribeToSessionRevocations, type LiveSession, type SessionRevokedEvent } from '../sessions.ts';

// The run's Redis and key prefix (tests/src/global-setup.ts), plus a prefix of this file's own.
const prefix = `${process.env.REDIS_KEY_PREFIX ?? 'test:'}auth-sessions:${randomUUID().slice(0, 8)}:`;
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url, { keyPrefix: prefix });
const subscriber = new Redis(url, { keyPrefix: prefix });
const store = createSessionStore(redis);

afterAll(() => {
  redis.disconnect();
  subscriber.disconnect();
});

function session(overrides: Partial<LiveSession> = {}): LiveSession {
  return { sessionId: randomUUID(), userId: 'u1', tenantId: 'default', roles: ['USER'], expiresAt: Date.now() + 60_000, ...overrides };
}

describe('the live-session store', () => {
  it('saves, reads and expires with the session', async () => {
    const s = session({ expiresAt: Date.now() + 1_500 });
    await store.save(s);
    expect(await store.get(s.sessionId)).toEqual(s);
    expect(await store.isSessionLive(s.sessionId, { userId: 'u1', tenantId: 'default' })).toBe(true);
    expect(await store.isSessionLive(s.sessionId, { userId: 'someone-else', tenantId: 'default' })).toBe(false);
    expect(await redis.pttl(`session:${s.sessionId}`)).toBeLessThanOrEqual(1_500);
    expect(await store.isSessionLive(randomUUID())).toBe(false);
  });

  it('revokes one session or all of a user, optionally sparing one, and announces each on the channel', async () => {
    const events: SessionRevokedEvent[] = [];
    const subscription = await subscribeToSessionRevocations(subscriber, (event) => events.push(event));
    try {
      expect(sessionRevokedChannel(redis)).toBe(`${prefix}session-revoked`);
      const [a, b, c] = [session({ userId: 'u2' }), session({ userId: 'u2' }), session({ userId: 'u2' })];
      for (const s of [a, b, c]) await store.save(s);
      await store.revoke(a, 'logout');
      expect(await store.isSessionLive(a.sessionId)).toBe(false);
      expect(await store.revokeAll('default', 'u2', 'password-changed', { except: c.sessionId })).toEqual([b.sessionId]);
      expect(await store.isSessionLive(b.sessionId)).toBe(false);
      expect(await store.isSessionLive(c.sessionId)).toBe(true);
      await expect.poll(() => events.map((e) => [e.sessionId, e.reason])).toEqual([
        [a.sessionId, 'logout'],
        [b.sessionId, 'password-changed'],
      ]);
    } finally {
      await subscription.close();
    }
  });

  it('a revoked session cannot be saved back: a revocation sticks', async () => {
    const s = session({ userId: 'u4' });
    expect(await store.save(s)).toBe(true);
    await store.revoke(s, 'logout');
    expect(await store.save(s)).toBe(false);
    expect(await store.isSessionLive(s.sessionId)).toBe(false);
    expect(await redis.sismember(`user-sessions:default:u4`, s.sessionId)).toBe(0);
  });

  it('revokeAll also marks sessions it is told of that have no live record yet (mid-refresh)', async () => {
    const live = session({ userId: 'u5' });
    const midRefresh = session({ userId: 'u5' });
    const spared = session({ userId: 'u5' });
    await store.save(live);
    await store.save(spared);
    const ids = await store.revokeAll('default', 'u5', 'suspended', { except: spared.sessionId, ids: [midRefresh.sessionId, spared.sessionId] });
    expect(ids.sort()).toEqual([live.sessionId, midRefresh.sessionId].sort());
    expect(await store.save(midRefresh)).toBe(false);
    expect(await store.save(live)).toBe(false);
    expect(await store.save(spared)).toBe(true);
    expect(await store.isSessionLive(spared.sessionId)).toBe(true);
  });

  it('updates roles of live sessions without resurrecting a revoked one', async () => {
    const live = session({ userId: 'u3' });
    const revoked = session({ userId: 'u3' });
    await store.save(live);
    await store.save(revoked);
    await redis.del(`session:${revoked.sessionId}`); // revoked between SMEMBERS and SET, in effect
    await store.setRoles('default', 'u3', ['USER', 'ADMIN']);
    expect((await store.get(live.sessionId))?.roles).toEqual(['USER', 'ADMIN']);
    expect(await store.get(revoked.sessionId)).toBeNull();
  });
});
