import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { createMessageStreamStore, StreamConflictError, StreamLostError } from '../generation/message-streams.ts';
import { redisKeys } from '../generation/redis-keys.ts';
import type { StreamEntry, StreamHub } from '../generation/ports.ts';
import { createStreamHub } from '../generation/stream-hub.ts';

// Real Redis (the vitest global setup provides REDIS_URL and this run's REDIS_KEY_PREFIX).
let redis: Redis;
let hub: StreamHub;
const logger = createLogger({ service: 'test', level: 'silent' });

beforeAll(() => {
  redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: `${process.env.REDIS_KEY_PREFIX ?? 'test:'}hub:`, name: 'stream-hub-test' });
  hub = createStreamHub({ redis, instanceId: randomUUID(), logger, blockMs: 5_000 });
});

afterAll(async () => {
  await hub.close();
  await closeRedis(redis);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the shared stream reader', () => {
  it('gives every watcher the entries above its own cursor, in order and without gaps, however they join and leave', async () => {
    const streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
    const messageId = randomUUID();
    const total = 120;
    let written = 0;
    const writer = (async () => {
      for (let seq = 1; seq <= total; seq++) {
        await streams.appendDelta(messageId, seq, `d${seq} `, { inputTokens: 5, outputTokens: seq });
        written = seq;
        if (seq % 3 === 0) await sleep(2);
      }
      await streams.appendDone(messageId, total + 1, 'COMPLETED');
    })();

    // Watchers join at random moments from random cursors; some leave early and come back from where they were.
    const results = await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        await sleep(Math.floor(Math.random() * 250));
        const start = Math.floor(Math.random() * (written + 1));
        const seen: StreamEntry[] = [];
        let cursor = start;
        const follow = (until: (entries: StreamEntry[]) => boolean) =>
          new Promise<void>((resolve) => {
            const stop = hub.subscribe(messageId, cursor, (entries) => {
              seen.push(...entries);
              cursor = entries.at(-1)!.seq;
              if (until(seen)) {
                stop();
                resolve();
              }
            });
          });
        const isDone = (s: StreamEntry[]) => s.at(-1)?.kind === 'done';
        if (i % 3 === 0) {
          await follow((s) => s.length >= 5 || isDone(s));
          await sleep(20);
        }
        if (!isDone(seen)) await follow(isDone);
        return { start, seqs: seen.map((e) => e.seq) };
      }),
    );
    await writer;
    for (const { start, seqs } of results) {
      expect(seqs).toEqual(Array.from({ length: total + 1 - start }, (_, k) => start + k + 1));
    }
    expect(hub.watcherCount()).toBe(0);
  });

  it('unsubscribing acts at once: no entry is delivered afterwards', async () => {
    const streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
    const messageId = randomUUID();
    const received: number[] = [];
    const stop = hub.subscribe(messageId, 0, (entries) => received.push(...entries.map((e) => e.seq)));
    await streams.appendDelta(messageId, 1, 'a', null);
    const deadline = Date.now() + 2_000;
    while (received.length === 0 && Date.now() < deadline) await sleep(5);
    stop();
    expect(hub.watcherCount()).toBe(0);
    await streams.appendDelta(messageId, 2, 'b', null);
    await sleep(100);
    expect(received).toEqual([1]);
  });

  it('spreads many open streams over several readers, each subscriber still getting its stream whole and in order', async () => {
    // A reader names every stream it follows in each XREAD; past a few streams per reader the hub opens another.
    const sharded = createStreamHub({ redis, instanceId: randomUUID(), logger, blockMs: 5_000, streamsPerReader: 3 });
    const streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
    const messages = Array.from({ length: 20 }, () => randomUUID());
    const total = 30;
    const follow = (messageId: string, from: number) =>
      new Promise<number[]>((resolve) => {
        const seqs: number[] = [];
        const stop = sharded.subscribe(messageId, from, (entries) => {
          seqs.push(...entries.map((e) => e.seq));
          if (entries.at(-1)?.kind === 'done') {
            stop();
            resolve(seqs);
          }
        });
      });
    // Two subscribers per stream, the second joining mid-way from where it says it is.
    const first = messages.map((id) => follow(id, 0));
    const writers = messages.map(async (id, m) => {
      for (let seq = 1; seq <= total; seq++) {
        await streams.appendDelta(id, seq, `m${m}s${seq} `, { inputTokens: 1, outputTokens: seq });
        if (seq % 5 === 0) await sleep(1);
      }
      await streams.appendDone(id, total + 1, 'COMPLETED');
    });
    await sleep(20);
    const second = messages.map((id) => follow(id, 10));
    await Promise.all(writers);
    for (const seqs of await Promise.all(first)) expect(seqs).toEqual(Array.from({ length: total + 1 }, (_, k) => k + 1));
    for (const seqs of await Promise.all(second)) expect(seqs).toEqual(Array.from({ length: total + 1 - 10 }, (_, k) => 10 + k + 1));
    expect(sharded.watcherCount()).toBe(0);
    await sharded.close();
  });

  it('a stream Redis lost mid-answer is not re-created at a later seq; written again by its writer, subscribers see no gap', async () => {
    // What a Redis restarting empty does to an answer being written: the entries it acknowledged are gone, including
    // those a subscriber had not read yet. Appending the next delta to a new stream would make that subscriber jump.
    const streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
    const messageId = randomUUID();
    const deltas = ['Once ', 'upon ', 'a ', 'time ', 'there ', 'was '];
    for (let seq = 1; seq <= 3; seq++) await streams.appendDelta(messageId, seq, deltas[seq - 1]!, null);
    const seen: StreamEntry[] = [];
    const stop = hub.subscribe(messageId, 0, (entries) => seen.push(...entries));
    const deadline = Date.now() + 5_000;
    while (seen.length < 3 && Date.now() < deadline) await sleep(5);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3]);
    // The hub's reader is blocked past seq 3 on a stream that now vanishes after two more entries nobody read.
    await streams.appendDelta(messageId, 4, deltas[3]!, null);
    await streams.appendDelta(messageId, 5, deltas[4]!, null);
    await redis.del(redisKeys.stream(messageId));
    await expect(streams.appendDelta(messageId, 6, deltas[5]!, { inputTokens: 3, outputTokens: 6 })).rejects.toBeInstanceOf(StreamLostError);
    expect(await streams.exists(messageId)).toBe(false);
    await streams.restore(messageId, deltas, { inputTokens: 3, outputTokens: 6 });
    await streams.appendDone(messageId, 7, 'COMPLETED');
    while (seen.at(-1)?.kind !== 'done' && Date.now() < deadline + 5_000) await sleep(5);
    stop();
    // Every seq once, in order, and the text whole (the reader may have had 4 and 5 before the loss, or not).
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.map((e) => (e.kind === 'delta' ? e.delta : '')).join('')).toBe(deltas.join(''));
    expect((await streams.readAll(messageId)).at(-2)).toMatchObject({ seq: 6, inputTokens: 3, outputTokens: 6 });
  });

  it('a lost stream someone else wrote meanwhile (the sweeper ending it) is not written over', async () => {
    const streams = createMessageStreamStore(redis, { liveTtlSeconds: 60, retentionSeconds: 60 });
    const messageId = randomUUID();
    await streams.appendDelta(messageId, 1, 'a', null);
    await redis.del(redisKeys.stream(messageId));
    await expect(streams.appendDelta(messageId, 2, 'b', null)).rejects.toBeInstanceOf(StreamLostError);
    await streams.appendDone(messageId, 1, 'FAILED');
    await expect(streams.restore(messageId, ['a', 'b'], null)).rejects.toBeInstanceOf(StreamConflictError);
    expect(await streams.readAll(messageId)).toEqual([{ seq: 1, kind: 'done', status: 'FAILED' }]);
  });

  it('closes promptly even while blocked on Redis', async () => {
    const other = createStreamHub({ redis, instanceId: randomUUID(), logger, blockMs: 30_000 });
    other.subscribe(randomUUID(), 0, () => undefined);
    await sleep(50);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
