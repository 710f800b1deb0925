import { conflict, notFound } from '@firefly/errors';
import { publishJobChange } from '@firefly/image-jobs';
import { visibleToCaller } from '@firefly/server-kit';
import type { ImageContext } from '../context.ts';

/**
 * cancelImageJob: a QUEUED job leaves the queue; a RUNNING one is marked CANCELED and its worker, at its next poll,
 * cancels the DashScope task if it is still PENDING and discards whatever arrives. Whoever moves the row first wins
 * (the worker's own moves are conditional too), and the hold is released: CANCELED is never charged.
 */
export async function cancelImageJob(ctx: ImageContext, jobId: string) {
  const job = visibleToCaller(ctx, (await ctx.jobs.findByIds([jobId]))[0] ?? null);
  if (!job) throw notFound('image job');
  if (await ctx.jobs.cancel(job.id)) {
    if (job.status === 'QUEUED') await ctx.services.queue.removeWaiting(job.id).catch(() => false);
    if (job.reservationId) {
      await ctx.services.credits.release({ tenantId: job.tenantId, requestId: ctx.requestId, reservationId: job.reservationId });
      await ctx.jobs.recordCharge(job.id, 0);
    }
    await publishJobChange(ctx.services.redis, job.id, { status: 'CANCELED', progress: job.progress }).catch((error: unknown) => ctx.logger.warn({ err: error }, 'could not publish a cancelled image job'));
  }
  const after = (await ctx.jobs.findByIds([job.id]))[0];
  if (!after) throw notFound('image job');
  if (after.status !== 'CANCELED') throw conflict(`The job already ended (${after.status})`, { status: after.status });
  return after;
}

/** deleteImage: the owner (or an ADMIN) removes the stored object and the image; its URL stops working. */
export async function deleteImage(ctx: ImageContext, imageId: string): Promise<boolean> {
  const image = visibleToCaller(ctx, (await ctx.images.findByIds([imageId]))[0] ?? null);
  if (!image) throw notFound('image');
  await ctx.services.storage.delete(image.storageKey);
  await ctx.images.markDeleted(image.id);
  return true;
}
