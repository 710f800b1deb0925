import { randomUUID } from 'node:crypto';
import { warmUpAtStart, type Db, type ImageDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { createWorkerData } from './data.ts';

/**
 * Warms a freshly started worker before it takes its first job: opens every pooled connection (the first query of a
 * process also loads and instantiates Prisma's query compiler, ~300 ms), then runs each statement a job runs
 * (createWorkerData) once, so that the query compiler's first compilation of each shape (~30–90 ms each on an idle
 * machine, measured 20:25 with a fresh process: the first `load` 88.6 ms, 3.5 ms after this warm-up) is paid here
 * and not by the first jobs — on the images bench's cold start (IMAGES_WARMUP_JOBS=0) the two workers spent ~2 s of
 * CPU on it in the run's first seconds, on the cores that carry the first jobs' progress events.
 *
 * Everything runs for a job id made up here, in @firefly/db's warmUpAtStart transaction, always rolled back: no row
 * matches, none is locked or kept.
 */
export async function warmUpWorker(client: Db, options: { poolSize: number; logger: Logger }): Promise<void> {
  const jobId = `warm-up-${randomUUID()}`;
  await warmUpAtStart(client, {
    ...options,
    what: 'the job statements',
    statements: async (tx) => {
      const data = createWorkerData(tx as unknown as ImageDb);
      await data.load(jobId);
      await data.status(jobId);
      await data.markRunning(jobId, 0.02);
      await data.markSubmitting(jobId, new Date());
      await data.claimedTaskIds([jobId]);
      await data.recordTask(jobId, jobId);
      await data.setProgress(jobId, 0.5);
      await data.imagesOf(jobId);
      await data.succeed(jobId);
      await data.fail(jobId, { code: 'INTERNAL', message: 'warm-up' });
      await data.recordCharge(jobId, 0);
      await data.deleteImages(jobId);
      // Last: no job has this id, so MySQL refuses the row (foreign key); the statement was compiled all the same.
      await data
        .saveImage({ id: jobId, tenantId: jobId, userId: jobId, jobId, storageKey: jobId, width: 1, height: 1, contentType: 'image/png', byteSize: 1 })
        .catch(() => undefined);
    },
  });
}
