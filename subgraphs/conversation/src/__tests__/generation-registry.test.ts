import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { createGenerationRegistry } from '../generation/generation-registry.ts';
import { createMessageStreamStore } from '../generation/message-streams.ts';
import type { GenerationRecord, GenerationRegistry, MessageStreamStore } from '../generation/ports.ts';

// Real Redis (the vitest global setup provides REDIS_URL and this run's REDIS_KEY_PREFIX).
let redis: Redis;
let registry: GenerationRegistry;
let streams: MessageStreamStore;

beforeAll(() => {
  redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: `${process.env.REDIS_KEY_PREFIX ?? 'test:'}registry:`, name: 'registry-test' });
  registry = createGenerationRegistry(redis, { leaseMs: 15_000, recordTtlMs: 60_000 });
  streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
});

afterAll(async () => {
  await closeRedis(redis);
});

function newRecord(): GenerationRecord {
  return { messageId: randomUUID(), tenantId: randomUUID(), userId: randomUUID(), conversationId: randomUUID(), modelId: 'qwen-turbo', reservationId: randomUUID() };
}

describe('restoring the record of a STREAMING answer that has none', () => {
  it('restores it when Redis lost the record of a generation that has not finished', async () => {
    const record = newRecord();
    await registry.register(record, 'owner-a');
    await streams.appendDelta(record.messageId, 1, 'Hello', { inputTokens: 3, outputTokens: 1 });
    await redis.del(`chat:gen:{${record.messageId}}`);

    expect(await registry.restore(record)).toBe(true);
    expect(await registry.read(record.messageId)).toMatchObject({ ...record, owner: 'restored' });
  });

  it('restores it when the stream was lost with the record', async () => {
    const record = newRecord();
    expect(await registry.restore(record)).toBe(true);
    expect((await registry.read(record.messageId))?.owner).toBe('restored');
  });

  it('leaves alone a generation that finished after the sweep read its message as STREAMING', async () => {
    // The sweep's MySQL read and its restore are not atomic: under load many answers finish in between. Their
    // finisher wrote `done` and then removed the record; bringing it back would hand a finished answer to the
    // orphan sweep (and log a Redis loss that never happened).
    const record = newRecord();
    await registry.register(record, 'owner-a');
    await streams.appendDelta(record.messageId, 1, 'Hello', { inputTokens: 3, outputTokens: 1 });
    await streams.appendDone(record.messageId, 2, 'COMPLETED');
    await registry.remove(record);

    expect(await registry.restore(record)).toBe(false);
    expect(await registry.read(record.messageId)).toBeNull();
    expect(await registry.expiredCandidates(1_000)).not.toContain(record.messageId);
  });

  it('never replaces a record that exists (its owner or a sweeper is on it)', async () => {
    const record = newRecord();
    await registry.register(record, 'owner-a');
    expect(await registry.restore(record)).toBe(false);
    expect((await registry.read(record.messageId))?.owner).toBe('owner-a');
  });
});
