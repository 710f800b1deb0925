import type { JobDefinition } from '@firefly/server-kit';
import { sweepOrphanedHolds } from '../domain/orphaned-holds.ts';
import { sweepLostJobs, type SweepDeps } from '../domain/sweep-lost-jobs.ts';

/**
 * Every IMAGE_JOB_SWEEP_INTERVAL_SECONDS, queue again the jobs the queue lost (domain/sweep-lost-jobs.ts) and release
 * the holds of requests that stored no job once orphaned (domain/orphaned-holds.ts).
 */
export function sweepLostJobsJob(options: SweepDeps & { everyMs: number }): JobDefinition {
  return {
    name: 'sweep-lost-image-jobs',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: async ({ logger }) => {
      const result = await sweepLostJobs({ ...options, logger }, { graceMs: options.everyMs });
      if (result.requeued + result.failed > 0) logger.info(result, 'lost image jobs swept');
      const released = await sweepOrphanedHolds({ ...options, logger });
      if (released > 0) logger.info({ released }, 'orphaned image holds released');
    },
  };
}
