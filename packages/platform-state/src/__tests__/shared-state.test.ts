// The shared copy in real Redis: a revision never goes back, and a follower takes an announced change (pub/sub) and
// a change whose announcement it missed (the periodic revision check).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { followSharedState, parseTenantDirectory, sharedRevision, shareState, tenantDirectoryData, EMPTY_TENANT_DIRECTORY, type TenantDirectory } from '../index.ts';

const logger = createLogger({ service: 'platform-state-test', level: 'silent' });
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `${process.env.REDIS_KEY_PREFIX ?? ''}platform-state-test:${randomUUID()}:`;
const clients: Redis[] = [];
const connect = (blocking = false) => {
  const client = createRedis({ url, keyPrefix, name: 'platform-state-test', logger, ...(blocking ? { maxRetriesPerRequest: null } : {}) });
  clients.push(client);
  return client;
};
const redis = connect();
afterAll(async () => {
  for (const client of clients) await closeRedis(client);
});

const tenants = (...entries: Array<[string, 'ACTIVE' | 'SUSPENDED', string[]]>) => tenantDirectoryData(entries.map(([id, status, hosts]) => ({ id, status, hosts })));

describe('shareState', () => {
  it('writes a newer revision only: a copy made out of order never puts an older state back', async () => {
    const kind = `k-${randomUUID()}`;
    expect(await sharedRevision(redis, kind)).toBe(-1);
    expect(await shareState(redis, kind, { revision: 2, data: tenants(['a', 'ACTIVE', ['a.example.com']]) })).toBe(true);
    expect(await shareState(redis, kind, { revision: 1, data: tenants() })).toBe(false);
    expect(await shareState(redis, kind, { revision: 2, data: tenants() })).toBe(false);
    expect(await sharedRevision(redis, kind)).toBe(2);
  });
});

describe('followSharedState', () => {
  it('takes an announced change from the channel, without waiting for the revision check', async () => {
    const kind = `k-${randomUUID()}`;
    const follower = followSharedState<TenantDirectory>({
      redis,
      kind,
      parse: parseTenantDirectory,
      initial: EMPTY_TENANT_DIRECTORY,
      createSubscriber: () => connect(true),
      closeSubscriber: closeRedis,
      logger,
      // Far beyond the test's timeout: only the announcement can bring the change.
      recheckMs: 3_600_000,
    });
    await follower.start();
    try {
      expect(follower.loaded).toBe(true);
      expect(follower.revision).toBe(-1);
      await shareState(redis, kind, { revision: 1, data: tenants(['c', 'SUSPENDED', ['c.example.com']]) });
      await vi.waitFor(() => expect(follower.current().suspended.has('c')).toBe(true), { timeout: 10_000, interval: 10 });
      expect(follower.current().byHost.get('c.example.com')).toBe('c');
    } finally {
      await follower.stop();
    }
  });

  it('loads on start, then follows announced changes and, without an announcement, the revision check', async () => {
    const kind = `k-${randomUUID()}`;
    await shareState(redis, kind, { revision: 0, data: tenants(['a', 'ACTIVE', ['a.example.com']]) });
    const changes: number[] = [];
    const follower = followSharedState<TenantDirectory>({
      redis,
      kind,
      parse: parseTenantDirectory,
      initial: EMPTY_TENANT_DIRECTORY,
      createSubscriber: () => connect(true),
      closeSubscriber: closeRedis,
      logger,
      recheckMs: 200,
      onChange: (_, revision) => changes.push(revision),
    });
    await follower.start();
    try {
      expect(follower.loaded).toBe(true);
      expect(follower.current().byHost.get('a.example.com')).toBe('a');

      await shareState(redis, kind, { revision: 1, data: tenants(['a', 'SUSPENDED', []]) });
      await vi.waitFor(() => expect(follower.current().suspended.has('a')).toBe(true), { timeout: 10_000, interval: 10 });
      expect(follower.current().byHost.size).toBe(0);

      // Written behind the channel's back (as after a Redis restart): the periodic check finds it.
      await redis.set(`platform-state:${kind}`, JSON.stringify(tenants(['a', 'ACTIVE', ['b.example.com']])));
      await redis.set(`platform-state:${kind}:revision`, '5');
      await vi.waitFor(() => expect(follower.current().byHost.get('b.example.com')).toBe('a'), { timeout: 10_000, interval: 10 });
      expect(changes).toEqual([0, 1, 5]);

      // A state it cannot read is refused; the one held stays.
      await shareState(redis, kind, { revision: 6, data: { tenants: 'nonsense' } });
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(follower.revision).toBe(5);
    } finally {
      await follower.stop();
    }
  });
});
