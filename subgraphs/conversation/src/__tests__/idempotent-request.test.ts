import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '@firefly/db';
import { closeRedis, createRedis } from '@firefly/redis';
import { createTurnStore } from '../data/messages.ts';
import { withIdempotencyKey } from '../generation/idempotent-request.ts';
import { createRequestClaims } from '../generation/request-claims.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by tests/src/global-setup.ts: this run's migrated and seeded database. */
    databaseUrl: string;
  }
}

// This run's database and Redis (tests/src/global-setup.ts): the real claim store and the real turn store.
const db = createDb({ url: inject('databaseUrl'), connectionLimit: 2 });
const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: `${process.env.REDIS_KEY_PREFIX ?? 'test:'}claims:`, name: 'claims-test' });
const services = { claims: createRequestClaims(redis), turns: createTurnStore(db) };
afterAll(async () => {
  await closeRedis(redis);
  await db.$disconnect();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a request whose key is claimed', () => {
  it('keeps its claim while it runs longer than the claim lasts: a duplicate waits for it and replays its answer', async () => {
    const tenantId = `t-${randomUUID()}`;
    const userId = `u-${randomUUID()}`;
    const conversation = await db.conversation.create({ data: { id: randomUUID(), tenantId, userId, title: '', modelId: 'qwen-turbo' } });
    const timing = { ttlMs: 300, maxHoldMs: 10_000 };
    let runs = 0;
    const request = {
      tenantId,
      userId,
      operation: 'sendMessage',
      idempotencyKey: randomUUID(),
      replay: async (answer: { id: string }) => `replayed ${answer.id}`,
      // Three expiries long, as a hold whose billing calls are retried can be; then the turn is stored.
      run: async (storedKey: string | undefined) => {
        runs += 1;
        await sleep(3 * timing.ttlMs);
        const now = Date.now();
        const questionId = randomUUID();
        const answerId = randomUUID();
        await services.turns.insert({
          tenantId,
          userId,
          conversationId: conversation.id,
          question: { id: questionId, content: 'Tell me about fireflies', createdAt: new Date(now) },
          answer: { id: answerId, replyToId: questionId, reservationId: `rsv_${randomUUID()}`, createdAt: new Date(now + 1), idempotencyKey: storedKey },
        });
        return `ran ${answerId}`;
      },
    };

    const first = withIdempotencyKey(services, request, timing);
    await sleep(50);
    const duplicate = withIdempotencyKey(services, request, timing);
    const [a, b] = await Promise.all([first, duplicate]);

    expect(runs).toBe(1);
    expect(a).toMatch(/^ran /);
    expect(b).toBe(a.replace('ran', 'replayed'));
  });

  it('renews a claim only for its holder', async () => {
    const key = `claim-${randomUUID()}`;
    const token = await services.claims.claim(key, 200);
    expect(token).not.toBeNull();
    expect(await services.claims.renew(key, 'someone-else', 60_000)).toBe(false);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(200);
    expect(await services.claims.renew(key, token!, 60_000)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(50_000);
    await services.claims.release(key, token!);
    expect(await services.claims.renew(key, token!, 60_000)).toBe(false);
  });
});
