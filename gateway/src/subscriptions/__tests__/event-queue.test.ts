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

  it('pushLatest: a newer whole state replaces the one still waiting, so the last one always goes out', async () => {
    const queue = new EventQueue<string>(10);
    expect(queue.pushLatest('RUNNING 0.1')).toBe('queued');
    expect(queue.pushLatest('RUNNING 0.5')).toBe('replaced');
    expect(queue.pushLatest('SUCCEEDED')).toBe('replaced');
    expect(queue.size).toBe(1);
    expect(await queue.next()).toEqual({ value: 'SUCCEEDED', done: false });
    queue.end();
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('pushLatest never replaces what was handed out or pushed plainly, and keeps the order', async () => {
    const queue = new EventQueue<string>(10);
    // A waiting consumer takes the first state at once: nothing is left to replace.
    const waiting = queue.next();
    expect(queue.pushLatest('QUEUED')).toBe('queued');
    expect(await waiting).toEqual({ value: 'QUEUED', done: false });
    expect(queue.pushLatest('RUNNING 0.1')).toBe('queued');
    // A plain item (an event with errors) is never dropped, and a later state does not jump over it.
    expect(queue.push('error')).toBe(true);
    expect(queue.pushLatest('RUNNING 0.5')).toBe('queued');
    expect(queue.pushLatest('SUCCEEDED')).toBe('replaced');
    const seen: string[] = [];
    while (queue.size > 0) seen.push((await queue.next()).value!);
    expect(seen).toEqual(['RUNNING 0.1', 'error', 'SUCCEEDED']);
  });

  it('pushLatest refuses past the limit and once ended, like push', () => {
    const queue = new EventQueue<string>(1);
    queue.push('a');
    expect(queue.pushLatest('b')).toBe('refused');
    queue.end();
    expect(queue.pushLatest('c')).toBe('refused');
  });
});
