/**
 * The common part of a subscription that follows a Redis stream through the shared stream reader: the reader's
 * callback `wake`s the iterator's `next`, which `wait`s when there is nothing to hand out; `end` (by `return()`,
 * `throw()` or `next` itself) runs the cleanup once; timers from `every` stop with it.
 */
export interface Follow {
  /** True once `end` ran. */
  readonly ended: boolean;
  /** Resolves on the next `wake` (or `end`). One waiter at a time: the iterator's own `next`. */
  wait(): Promise<void>;
  /** Resolves the pending `wait`, if any. */
  wake(): void;
  /** Ends the subscription once: clears its timers, runs the cleanup, resolves the pending `wait`. */
  end(): void;
  /** An unref'd interval, cleared when the subscription ends. */
  every(ms: number, tick: () => void): void;
  /**
   * The subscription's iterator: `next` computes each result. `return()` acts at once — it ends the subscription
   * (the cleanup: unsubscribing from the shared reader is a local map update) and resolves a pending `next()` — which
   * a native async generator suspended on an await cannot do (docs/architecture.md, "Subscriptions through the
   * gateway"). `throw()` ends it the same way and rethrows.
   */
  iterator<T>(next: () => Promise<IteratorResult<T>>): AsyncIterableIterator<T>;
}

/** The result that ends an iterator. */
export const FOLLOW_DONE: IteratorResult<never> = { done: true, value: undefined };

/** A {@link Follow} whose `end` runs `cleanup` (unsubscribe, counters) once. */
export function createFollow(cleanup: () => void): Follow {
  let ended = false;
  let wakeup: (() => void) | null = null;
  const timers: Array<ReturnType<typeof setInterval>> = [];

  const follow: Follow = {
    get ended() {
      return ended;
    },
    wait: () =>
      new Promise<void>((resolve) => {
        wakeup = resolve;
      }),
    wake() {
      const resolve = wakeup;
      wakeup = null;
      resolve?.();
    },
    end() {
      if (ended) return;
      ended = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      cleanup();
      follow.wake();
    },
    every(ms, tick) {
      if (ended) return;
      const timer = setInterval(tick, ms);
      timer.unref();
      timers.push(timer);
    },
    iterator<T>(next: () => Promise<IteratorResult<T>>) {
      const iterator: AsyncIterableIterator<T> = {
        next,
        async return() {
          follow.end();
          return FOLLOW_DONE;
        },
        async throw(error?: unknown) {
          follow.end();
          throw error;
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
  return follow;
}
