import type { Logger } from '@firefly/logger';

/**
 * A subgraph's background job, declared in its `src/jobs/` folder and started by the server shell
 * (`createSubgraphServer({ jobs })`), which stops it on `stop()` before the subgraph's own clean-up.
 */
export interface JobDefinition {
  /** kebab-case; bound to the job's logger as `job` (e.g. `sweep-expired-reservations`). */
  name: string;
  /** What starts a run. */
  trigger: JobTrigger;
  /** One run. A failure is logged and the next trigger runs it again; it never reaches the process. */
  handler: (run: { logger: Logger }) => Promise<unknown>;
}

/**
 * `interval`: the next run starts `everyMs` after the previous one ended, so runs never overlap in one process.
 * (A queue-driven trigger joins this union when a subgraph gets one.)
 */
export type JobTrigger = { kind: 'interval'; everyMs: number };

export interface JobHandle {
  /** Stops triggering and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Starts one job (the shell starts a subgraph's jobs with {@link startJobs}; tests may start one alone). */
export function startJob(job: JobDefinition, logger: Logger): JobHandle {
  const log = logger.child({ job: job.name });
  switch (job.trigger.kind) {
    case 'interval':
      return startInterval(job.trigger.everyMs, () => job.handler({ logger: log }), (error) => log.error({ err: error }, `${job.name} failed`));
  }
}

/** Starts every job; `stop()` stops them all. */
export function startJobs(jobs: readonly JobDefinition[], logger: Logger): JobHandle {
  const handles = jobs.map((job) => startJob(job, logger));
  return {
    async stop() {
      await Promise.all(handles.map((handle) => handle.stop()));
    },
  };
}

function startInterval(everyMs: number, run: () => Promise<unknown>, onError: (error: unknown) => void): JobHandle {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = run()
      .then(() => undefined, onError)
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, everyMs);
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
