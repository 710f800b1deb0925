import { describe, expect, it } from 'vitest';
import { EventQueue } from '../event-queue.ts';

describe('EventQueue', () => {
  it('hands items out in order, to a waiting consumer at once', async () => {
    const queue = new EventQueue<number>(10);
    const waiting = queue.next();
    expect(queue.push(1)).toBe(true);
    expect(await waiting).toEqual({ value: 1, done: false });
    queue.push(2);
    queue.push(3);
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('refuses items past its limit, never dropping one silently', () => {
    const queue = new EventQueue<number>(2);
    expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual([true, true, false]);
    expect(queue.size).toBe(2);
  });

  it('drains what is queued before reporting the end or the failure', async () => {
    const ended = new EventQueue<number>(5);
    ended.push(1);
    ended.end();
    expect(ended.push(2)).toBe(false);
    expect(await ended.next()).toEqual({ value: 1, done: false });
    expect(await ended.next()).toEqual({ value: undefined, done: true });

    const failed = new EventQueue<number>(5);
    failed.push(1);
    failed.fail(new Error('gone'));
    expect(await failed.next()).toEqual({ value: 1, done: false });
    await expect(failed.next()).rejects.toThrow('gone');
  });

  it('close() releases a waiting consumer immediately and drops queued items', async () => {
    const queue = new EventQueue<number>(5);
    const waiting = queue.next();
    queue.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
    const other = new EventQueue<number>(5);
    other.push(1);
    other.close();
    expect(await other.next()).toEqual({ value: undefined, done: true });
  });

  it('stays compact over a long stream', async () => {
    const queue = new EventQueue<number>(10);
    for (let i = 0; i < 10_000; i++) {
      queue.push(i);
      expect((await queue.next()).value).toBe(i);
    }
    expect(queue.size).toBe(0);
  });
});
