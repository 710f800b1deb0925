/**
 * The retry loop shared by the stream followers: subscribe; hand every result to `onResult`, which says whether the
 * stream is finished; when the subscription fails or completes before that, subscribe again after a backoff
 * (each attempt builds its own variables, so a resume can start where the last one stopped).
 */
import type { ApolloClient, OperationVariables, TypedDocumentNode } from '@apollo/client';
import { errorCodeOf } from './errors.ts';

/** Codes that subscribing again cannot fix (NOT_IMPLEMENTED: this server does not offer the subscription). */
const FINAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'NOT_IMPLEMENTED']);

export const defaultBackoff = (attempt: number) => Math.min(5_000, 250 * 2 ** Math.max(0, attempt - 1));

export interface ResumableOptions<TData, TVariables extends OperationVariables> {
  query: TypedDocumentNode<TData, TVariables>;
  /** Variables for the next attempt (called before each one). */
  variables: () => TVariables;
  /** Handles one result; returns true when the stream is finished. A result that makes progress resets the failure count. */
  onResult: (data: TData) => { finished: boolean; progressed: boolean };
  onError: (error: unknown) => void;
  onReconnecting?: (attempt: number) => void;
  /** Delay before the n-th consecutive retry; default 250 ms doubling to 5 s. */
  backoffMs?: (attempt: number) => number;
  /** Consecutive failed attempts before giving up. Default 8. */
  maxAttempts?: number;
  fetchPolicy?: 'no-cache' | 'cache-first';
}

export interface Follower {
  stop(): void;
}

/**
 * How many followers are waiting to resubscribe after losing their stream (the UI shows "reconnecting" while this
 * is above zero). One page has one client, so one count per page is what the person means by "the connection".
 */
export const reconnecting = (() => {
  let count = 0;
  const listeners = new Set<(count: number) => void>();
  const set = (next: number) => {
    count = next;
    for (const listener of listeners) listener(count);
  };
  return {
    count: () => count,
    begin: () => set(count + 1),
    end: () => set(Math.max(0, count - 1)),
    subscribe(listener: (count: number) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
})();

export function followResumably<TData, TVariables extends OperationVariables>(client: ApolloClient, options: ResumableOptions<TData, TVariables>): Follower {
  const backoff = options.backoffMs ?? defaultBackoff;
  const maxAttempts = options.maxAttempts ?? 8;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let subscription: { unsubscribe(): void } | undefined;
  let waiting = false;
  const settle = () => {
    if (waiting) reconnecting.end();
    waiting = false;
  };

  const retry = (error: unknown) => {
    subscription?.unsubscribe();
    subscription = undefined;
    if (stopped) return;
    failures += 1;
    const code = errorCodeOf(error);
    if ((code && FINAL_CODES.has(code)) || failures > maxAttempts) {
      stopped = true;
      settle();
      options.onError(error);
      return;
    }
    if (!waiting) reconnecting.begin();
    waiting = true;
    options.onReconnecting?.(failures);
    timer = setTimeout(subscribe, backoff(failures));
  };

  function subscribe() {
    if (stopped) return;
    subscription = client
      .subscribe<TData, TVariables>({ query: options.query, variables: options.variables(), fetchPolicy: options.fetchPolicy ?? 'no-cache' } as never)
      .subscribe({
        next(result) {
          if (stopped) return;
          if (result.error) return retry(result.error);
          if (!result.data) return;
          const { finished, progressed } = options.onResult(result.data as TData);
          if (progressed) {
            failures = 0;
            settle();
          }
          if (finished) {
            stopped = true;
            subscription?.unsubscribe();
          }
        },
        error: retry,
        complete() {
          if (!stopped) retry(new Error('the subscription ended before the stream was finished'));
        },
      });
  }

  subscribe();
  return {
    stop() {
      stopped = true;
      settle();
      if (timer) clearTimeout(timer);
      subscription?.unsubscribe();
    },
  };
}
