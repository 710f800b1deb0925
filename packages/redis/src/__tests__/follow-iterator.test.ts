import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFollow, FOLLOW_DONE } from '../follow-iterator.ts';

/** A follow whose iterator hands out what was pushed, waiting when there is nothing. */
function queueFollow() {
  const queue: number[] = [];
  let cleanups = 0;
  const follow = createFollow(() => {
    cleanups += 1;
  });
  const iterator = follow.iterator<number>(async () => {
    for (;;) {
      if (follow.ended) return FOLLOW_DONE;
      const value = queue.shift();
      if (value !== undefined) return { done: false, value };
      await follow.wait();
    }
  });
  const push = (value: number) => {
    queue.push(value);
    follow.wake();
  };
  return { follow, iterator, push, cleanups: () => cleanups };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createFollow', () => {
  it('hands out what is pushed, waiting in between', async () => {
    const { iterator, push } = queueFollow();
    push(1);
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    const pending = iterator.next();
    push(2);
    expect(await pending).toEqual({ done: false, value: 2 });
  });

  it('return() ends a pending next() at once and runs the cleanup once', async () => {
    const { follow, iterator, cleanups } = queueFollow();
    const pending = iterator.next();
    expect(await iterator.return!()).toEqual(FOLLOW_DONE);
    expect(await pending).toEqual(FOLLOW_DONE);
    await iterator.return!();
    follow.end();
    expect(cleanups()).toBe(1);
    expect(follow.ended).toBe(true);
    expect(await iterator.next()).toEqual(FOLLOW_DONE);
  });

  it('throw() ends it and rethrows', async () => {
    const { iterator, cleanups } = queueFollow();
    await expect(iterator.throw!(new Error('boom'))).rejects.toThrow('boom');
    expect(cleanups()).toBe(1);
    expect(await iterator.next()).toEqual(FOLLOW_DONE);
  });

  it('stops its timers when it ends, and starts none after', () => {
    vi.useFakeTimers();
    const { follow } = queueFollow();
    let ticks = 0;
    follow.every(100, () => (ticks += 1));
    vi.advanceTimersByTime(350);
    expect(ticks).toBe(3);
    follow.end();
    follow.every(100, () => (ticks += 100));
    vi.advanceTimersByTime(1_000);
    expect(ticks).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is its own async iterable', async () => {
    const { follow, iterator, push } = queueFollow();
    push(1);
    push(2);
    const seen: number[] = [];
    for await (const value of iterator) {
      seen.push(value);
      if (seen.length === 2) follow.end();
    }
    expect(seen).toEqual([1, 2]);
  });
});
