/**
 * Follows one assistant message's token stream to its end, whatever happens to the connection. Every event has a
 * `seq` (1, 2, 3… without gaps); when the subscription ends without `done` — a dropped socket, a gateway restart,
 * an unavailable subgraph, a slow-consumer cut — it subscribes again with `afterSeq` = the last seq seen, so no
 * token is lost and none is shown twice.
 */
import type { ApolloClient } from '@apollo/client';
import { MessageStreamDocument, type MessageFieldsFragment } from '../generated/graphql/graphql.ts';
import { followResumably, type Follower, type ResumableOptions } from './resumable.ts';

export interface MessageStreamHandlers {
  /** A new piece of the answer, in order. */
  onDelta(delta: string, seq: number): void;
  /** The final message (status COMPLETED, STOPPED or FAILED, with usage). */
  onDone(message: MessageFieldsFragment | null): void;
  /** The stream cannot be followed (refused, not found, retries exhausted). */
  onError(error: unknown): void;
  /** The connection dropped; the stream resumes after `afterSeq`. */
  onReconnecting?(attempt: number, afterSeq: number): void;
}

export interface MessageStreamFollower extends Follower {
  lastSeq(): number;
}

export function followMessageStream(
  client: ApolloClient,
  messageId: string,
  handlers: MessageStreamHandlers,
  options: { afterSeq?: number } & Pick<ResumableOptions<unknown, never>, 'backoffMs' | 'maxAttempts'> = {},
): MessageStreamFollower {
  let lastSeq = options.afterSeq ?? 0;
  const follower = followResumably(client, {
    query: MessageStreamDocument,
    variables: () => ({ messageId, afterSeq: lastSeq > 0 ? lastSeq : null }),
    onResult({ messageStream: event }) {
      // A replay of what is already shown (an overlapping resume) changes nothing.
      if (event.seq <= lastSeq) return { finished: false, progressed: false };
      lastSeq = event.seq;
      if (event.delta) handlers.onDelta(event.delta, event.seq);
      if (event.done) handlers.onDone(event.message ?? null);
      return { finished: event.done, progressed: true };
    },
    onError: handlers.onError,
    onReconnecting: (attempt) => handlers.onReconnecting?.(attempt, lastSeq),
    backoffMs: options.backoffMs,
    maxAttempts: options.maxAttempts,
  });
  return { stop: follower.stop, lastSeq: () => lastSeq };
}
