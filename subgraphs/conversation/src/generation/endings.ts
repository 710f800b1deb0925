import { assertNever } from '@firefly/errors';
import { describeUpstreamFailure, upstreamFailureCode } from './describe-failure.ts';
import type { FinalState } from './ports.ts';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What was generated before the end, as the finisher saw it (its own stream, or the Redis Stream for a sweeper). */
export interface GenerationOutput {
  content: string;
  /** Cumulative usage of the last upstream event; null when none arrived. */
  usage: TokenUsage | null;
  /** Seq of the last delta written; the done event gets the next one. */
  lastSeq: number;
}

/**
 * How a generation ended: the one list both finishers use — the runner in the process that generated, and the
 * sweeper for a process that died. {@link termsOf} turns each into the message's final status and what is charged.
 */
export type GenerationEnding =
  /** DashScope finished the answer. */
  | { kind: 'completed'; finishReason: string }
  /** stopGeneration: the partial answer is kept. */
  | { kind: 'stopped' }
  /** GENERATION_TIMEOUT_SECONDS passed. */
  | { kind: 'timed-out' }
  /** This process stopped (SIGTERM) before the answer was done and the drain time ran out. */
  | { kind: 'shut-down' }
  /** The generating process died (its lease expired); a sweeper finishes the message. */
  | { kind: 'orphaned' }
  /** DashScope refused or failed (moderation, throttling, outage): the user got no usable answer. */
  | { kind: 'upstream-failed'; error: unknown }
  /** Our own failure while delivering the answer (e.g. Redis). */
  | { kind: 'delivery-failed' };

export interface EndingTerms {
  status: FinalState['status'];
  finishReason: string | null;
  /** The `error` text shown on a FAILED message: readable, never an upstream or internal message. */
  error: string | null;
  /** The stable code of that error (Message.errorCode), for clients to word it themselves; null unless FAILED. */
  errorCode: MessageErrorCode | null;
  /**
   * Settle at the real cost of what was generated (completed, stopped, cut off, process died), or release the
   * whole hold (failures: the user got no usable answer).
   */
  charge: boolean;
}

/** Message.errorCode's values (documented in the schema; clients treat an unknown one as an unexplained failure). */
export type MessageErrorCode =
  | 'CONTENT_REJECTED'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'BAD_USER_INPUT'
  | 'TIMED_OUT'
  | 'INTERRUPTED'
  | 'INTERNAL_SERVER_ERROR';

const INTERRUPTED_ERROR = 'The answer was interrupted because the server generating it stopped; the text so far is kept.';
const SHUTDOWN_ERROR = 'The answer was interrupted by a server restart; the text so far is kept.';
const TIMEOUT_ERROR = 'The answer took too long and was cut off; the text so far is kept.';
const DELIVERY_ERROR = 'The answer could not be delivered because of an internal error.';

export function termsOf(ending: GenerationEnding, output: GenerationOutput): EndingTerms {
  switch (ending.kind) {
    case 'completed':
      return { status: 'COMPLETED', finishReason: ending.finishReason, error: null, errorCode: null, charge: true };
    case 'stopped':
      return { status: 'STOPPED', finishReason: 'stop_requested', error: null, errorCode: null, charge: true };
    case 'timed-out':
      return { status: 'FAILED', finishReason: null, error: TIMEOUT_ERROR, errorCode: 'TIMED_OUT', charge: true };
    case 'shut-down':
      return { status: 'FAILED', finishReason: null, error: SHUTDOWN_ERROR, errorCode: 'INTERRUPTED', charge: true };
    case 'orphaned':
      return { status: 'FAILED', finishReason: null, error: INTERRUPTED_ERROR, errorCode: 'INTERRUPTED', charge: true };
    case 'upstream-failed':
      return {
        status: 'FAILED',
        finishReason: null,
        error: describeUpstreamFailure(ending.error, output.lastSeq > 0),
        errorCode: upstreamFailureCode(ending.error),
        charge: false,
      };
    case 'delivery-failed':
      return { status: 'FAILED', finishReason: null, error: DELIVERY_ERROR, errorCode: 'INTERNAL_SERVER_ERROR', charge: false };
    default:
      return assertNever(ending);
  }
}
