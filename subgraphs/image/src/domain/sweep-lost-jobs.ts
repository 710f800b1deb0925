import type { ImageDb } from '@firefly/db';
import { publishJobChange } from '@firefly/image-jobs';
import type { Logger } from '@firefly/logger';
import type { ImageServices } from '../services.ts';

const LOST_MESSAGE = 'The job was lost before it could run; its credits were released';

export interface SweepDeps {
  /** Unscoped: the sweep looks at every tenant's jobs. */
  db: ImageDb;
  services: Pick<ImageServices, 'queue' | 'credits' | 'redis' | 'jobs'>;
  logger: Logger;
}

/**
 * Finds jobs the queue no longer carries and puts them back on their way:
 *
 * - QUEUED or RUNNING with no waiting, delayed or running entry in BullMQ — the subgraph crashed between storing the
 *   job and queueing it, or BullMQ gave up on it (stalled too often) — are queued again; the worker resumes a RUNNING
 *   one on its recorded DashScope task. One created more than half its credit hold ago is FAILED
 *   (UPSTREAM_UNAVAILABLE) instead and its hold released, before billing lets the hold lapse under it.
 * - Finished jobs whose credits were never settled (billing did not answer in time) are queued again too: the worker
 *   settles a finished job and does nothing else.
 *
 * Only rows untouched for `graceMs` are looked at; queueing is idempotent by job id, so replicas sweeping at the same
 * time, or a job queued by its request a moment later, are harmless. Returns what it did.
 */
export async function sweepLostJobs(deps: SweepDeps, options: { graceMs: number; now?: number; limit?: number }): Promise<{ requeued: number; failed: number }> {
  const now = options.now ?? Date.now();
  const staleBefore = new Date(now - options.graceMs);
  const rows = await deps.db.imageJob.findMany({
    where: {
      updatedAt: { lt: staleBefore },
      OR: [{ status: { in: ['QUEUED', 'RUNNING'] } }, { status: { in: ['SUCCEEDED', 'FAILED', 'CANCELED'] }, creditsCharged: null, reservationId: { not: null } }],
    },
    orderBy: { updatedAt: 'asc' },
    take: options.limit ?? 200,
    select: { id: true, tenantId: true, status: true, progress: true, reservationId: true, createdAt: true },
  });
  let requeued = 0;
  let failed = 0;
  const giveUpBefore = now - (deps.services.jobs.holdSeconds * 1000) / 2;
  for (const row of rows) {
    const active = row.status === 'QUEUED' || row.status === 'RUNNING';
    if (active && row.createdAt.getTime() < giveUpBefore) {
      if (await deps.services.queue.isQueued(row.id)) continue;
      if (await giveUp(deps, row)) failed += 1;
      continue;
    }
    if (await deps.services.queue.requeue({ jobId: row.id, tenantId: row.tenantId })) {
      requeued += 1;
      deps.logger.warn({ jobId: row.id, tenantId: row.tenantId, status: row.status }, 'image job was not in the queue; queued it again');
    }
  }
  return { requeued, failed };
}

async function giveUp(deps: SweepDeps, row: { id: string; tenantId: string; progress: number; reservationId: string | null }): Promise<boolean> {
  const { count } = await deps.db.imageJob.updateMany({
    where: { id: row.id, status: { in: ['QUEUED', 'RUNNING'] } },
    data: { status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', errorService: 'image-worker', error: LOST_MESSAGE, finishedAt: new Date() },
  });
  if (count !== 1) return false;
  deps.logger.warn({ jobId: row.id, tenantId: row.tenantId }, 'image job was lost for too long; failed it and released its credits');
  if (row.reservationId) {
    await deps.services.credits.release({ tenantId: row.tenantId, reservationId: row.reservationId });
    await deps.db.imageJob.updateMany({ where: { id: row.id, creditsCharged: null }, data: { creditsCharged: 0 } });
  }
  await publishJobChange(deps.services.redis, row.id, { status: 'FAILED', progress: row.progress }).catch((error: unknown) => deps.logger.warn({ err: error, jobId: row.id }, 'could not publish a failed image job'));
  return true;
}
