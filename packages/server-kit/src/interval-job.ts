import type { Logger } from '@firefly/logger';

export interface IntervalJobHandle {
  /** Stops the loop and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface IntervalJobOptions {
  /** Names the job in logs, e.g. `reservation sweep`. */
  name: string;
  intervalMs: number;
  run: () => Promise<unknown>;
  logger: Logger;
}

/**
 * Runs a background job every `intervalMs`. The next run is scheduled after the previous one finished, so runs
 * never overlap in one process; failures are logged, never thrown — a database hiccup must not kill the process.
 */
export function startIntervalJob(options: IntervalJobOptions): IntervalJobHandle {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = options
      .run()
      .then(
        () => undefined,
        (error: unknown) => options.logger.error({ err: error, job: options.name }, `${options.name} failed`),
      )
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
