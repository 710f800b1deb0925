import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { rateLimited } from '@firefly/errors';

export interface StartAdmissionOptions {
  /** Most generations this process runs at once (GENERATION_CAPACITY); 0: no cap. */
  capacity: number;
  /**
   * Starts are refused while the event loop's delay (p99 over the last completed second) is above this many ms
   * (GENERATION_MAX_LOOP_DELAY_MS); 0: not measured.
   */
  maxLoopDelayMs: number;
  /** Generations running in this process now. */
  active: () => number;
}

/** Why a start was refused, for the metric and the log. */
export type Refusal = 'capacity' | 'loop_delay';

export interface StartAdmission {
  /**
   * Throws RATE_LIMITED (with retryAfterSeconds) when this process should not take another generation now; cheap (no
   * I/O), so it runs before anything is reserved or stored.
   */
  admit(): void;
  /** The event loop delay the last check used, ms (0 when not measured). */
  loopDelayMs(): number;
  /** Refusals so far, by reason. */
  refusals(): Readonly<Record<Refusal, number>>;
  close(): void;
}

/** What a refused user is told to wait: long enough for a few answers to finish, short enough to matter. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Admission of new generations in this process (sendMessage, regenerateMessage), so that a start that cannot be
 * served promptly is refused at once with a clear code, instead of being taken on by a process that is already
 * behind and answering after the gateway's deadline (UPSTREAM_UNAVAILABLE "did not answer in time", then its
 * breaker refusing everything, running answers included).
 *
 * Two limits: a fixed capacity (generations running here; each holds an upstream stream and costs CPU per token),
 * and, when configured, the event loop's delay: a process whose loop is late by more than the bound already serves
 * its running streams late, and another stream would only make every one of them later.
 */
export function createStartAdmission(options: StartAdmissionOptions): StartAdmission {
  const counts: Record<Refusal, number> = { capacity: 0, loop_delay: 0 };
  let histogram: IntervalHistogram | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastDelayMs = 0;
  if (options.maxLoopDelayMs > 0) {
    histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    timer = setInterval(() => {
      // p99 of the last second; nanoseconds. The interval itself fires late when the loop is late, which is what
      // the histogram measured anyway.
      lastDelayMs = histogram!.count > 0 ? histogram!.percentile(99) / 1e6 : 0;
      histogram!.reset();
    }, 1_000);
    timer.unref();
  }

  return {
    admit() {
      if (options.capacity > 0 && options.active() >= options.capacity) {
        counts.capacity += 1;
        throw rateLimited(RETRY_AFTER_SECONDS, 'The chat service is busy: too many answers are being generated right now; try again shortly');
      }
      if (options.maxLoopDelayMs > 0 && lastDelayMs > options.maxLoopDelayMs) {
        counts.loop_delay += 1;
        throw rateLimited(RETRY_AFTER_SECONDS, 'The chat service is busy right now; try again shortly');
      }
    },
    loopDelayMs: () => lastDelayMs,
    refusals: () => counts,
    close() {
      clearInterval(timer);
      histogram?.disable();
    },
  };
}
