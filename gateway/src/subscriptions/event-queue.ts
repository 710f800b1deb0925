/**
 * A bounded single-consumer queue between a push source (the upstream graphql-ws sink, which never waits) and a
 * pull consumer (our iterator, paced by graphql-ws awaiting every socket write). `push` refuses past `limit`, so the
 * caller decides what overflow means; nothing here drops events silently (token deltas must never be lost).
 *
 * Streams whose every event is the whole current state (a job's status) may use `pushLatest` instead: a newer
 * state replaces the one still waiting to be handed out, since a subscriber only needs the latest — so the last
 * state is always delivered, and a consumer that fell behind skips the stale ones instead of working through them.
 *
 * Unlike an `async function*`, `close()` settles a pending `next()` at once: a consumer that leaves while waiting
 * is released immediately rather than on the next event (docs/architecture.md, "Subscriptions through the gateway", teardown; the same symptom as hive-router#1494).
 */
export class EventQueue<T> {
  private items: T[] = [];
  private head = 0;
  /** The newest queued item came through `pushLatest` (and may be replaced by a newer one). */
  private tailIsLatest = false;
  private waiter: { resolve: (result: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void } | null = null;
  private state: { phase: 'open' } | { phase: 'ended' } | { phase: 'failed'; error: unknown } | { phase: 'closed' } = { phase: 'open' };

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  get isOpen(): boolean {
    return this.state.phase === 'open';
  }

  /** False when the queue already holds `limit` items (nothing is added) or no longer accepts items. */
  push(item: T): boolean {
    if (this.state.phase !== 'open') return false;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    if (this.size >= this.limit) return false;
    this.items.push(item);
    this.tailIsLatest = false;
    return true;
  }

  /**
   * For a whole-state item: replaces the newest queued item when that one also came through `pushLatest` and has not
   * been handed out yet (`replaced`: the older state is dropped); otherwise as `push` (`queued`, or `refused` for
   * push's false). Items pushed with `push` in between (an error, say) are never replaced, nor jumped over.
   */
  pushLatest(item: T): 'queued' | 'replaced' | 'refused' {
    if (this.state.phase !== 'open') return 'refused';
    if (!this.waiter && this.size > 0 && this.tailIsLatest) {
      this.items[this.items.length - 1] = item;
      return 'replaced';
    }
    if (!this.push(item)) return 'refused';
    this.tailIsLatest = this.size > 0;
    return 'queued';
  }

  /** No more items: the consumer drains what is queued, then sees `done`. */
  end(): void {
    if (this.state.phase !== 'open') return;
    this.state = { phase: 'ended' };
    this.settleWaiter();
  }

  /** The consumer drains what is queued, then `next()` rejects with `error`. */
  fail(error: unknown): void {
    if (this.state.phase !== 'open') return;
    this.state = { phase: 'failed', error };
    this.settleWaiter();
  }

  /** Drops queued items; a pending and every later `next()` resolve `done` at once. */
  close(): void {
    this.state = { phase: 'closed' };
    this.items = [];
    this.head = 0;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) {
      const item = this.items[this.head]!;
      this.items[this.head] = undefined as T;
      this.head++;
      // Compact now and then so a long stream does not keep a growing array of holes.
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value: item, done: false });
    }
    switch (this.state.phase) {
      case 'open':
        if (this.waiter) return Promise.reject(new Error('EventQueue supports one pending next() at a time'));
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      case 'failed':
        return Promise.reject(this.state.error);
      case 'ended':
      case 'closed':
        return Promise.resolve({ value: undefined, done: true });
    }
  }

  private settleWaiter(): void {
    if (!this.waiter || this.size > 0) return;
    const waiter = this.waiter;
    this.waiter = null;
    if (this.state.phase === 'failed') waiter.reject(this.state.error);
    else waiter.resolve({ value: undefined, done: true });
  }
}
