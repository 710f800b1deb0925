/**
 * Wraps a generator so that `return()` (a `break` in `for await`, or an explicit close) aborts its signal at once.
 * A plain async generator only runs its `finally` when it reaches the next `yield`; while it waits on the network
 * that could be a whole idle timeout later, with the upstream request — and the tokens we pay for — still running.
 */
export function abortOnReturn<T>(
  start: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>,
  callerSignal?: AbortSignal,
): AsyncIterableIterator<T> {
  const closer = new AbortController();
  const signal = callerSignal ? AbortSignal.any([callerSignal, closer.signal]) : closer.signal;
  const inner = start(signal);
  const closedByConsumer = (): boolean => closer.signal.aborted && !callerSignal?.aborted;

  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      try {
        return await inner.next();
      } catch (error) {
        // A `next()` still pending when the consumer closed the stream ends quietly: the consumer asked for it.
        if (closedByConsumer()) return { done: true, value: undefined };
        throw error;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      closer.abort(new DOMException('The consumer closed the stream', 'AbortError'));
      try {
        await inner.return(undefined);
      } catch {
        // The generator's own failure while being torn down is of no interest to a consumer that left.
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
