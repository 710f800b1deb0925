/**
 * Follows an image job's progress until it reaches a terminal state. `imageJobUpdated` starts with the current
 * state, so after any interruption subscribing again is enough to catch up. Results go through the cache, so the
 * job's card and the gallery update from the same events.
 */
import type { ApolloClient } from '@apollo/client';
import { ImageJobUpdatedDocument, type ImageJobFieldsFragment } from '../generated/graphql/graphql.ts';
import { followResumably, type Follower } from './resumable.ts';

export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

export interface ImageJobHandlers {
  /** Each state of the job (also written into the Apollo cache, which is often all a screen needs). */
  onUpdate?(job: ImageJobFieldsFragment): void;
  onError(error: unknown): void;
  /** The subscription was lost and is being tried again (`attempt` 1, 2, …); onUpdate follows once it is back. */
  onReconnecting?(attempt: number): void;
}

export function followImageJob(client: ApolloClient, jobId: string, handlers: ImageJobHandlers): Follower {
  return followResumably(client, {
    query: ImageJobUpdatedDocument,
    variables: () => ({ jobId }),
    fetchPolicy: 'cache-first',
    onResult({ imageJobUpdated: job }) {
      handlers.onUpdate?.(job);
      return { finished: TERMINAL_JOB_STATUSES.has(job.status), progressed: true };
    },
    onError: handlers.onError,
    onReconnecting: handlers.onReconnecting,
  });
}
