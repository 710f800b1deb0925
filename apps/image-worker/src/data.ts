import { isUniqueConstraintError, type ImageDb } from '@firefly/db';
import type { ImageJobStatus } from '@firefly/image-jobs';

/** The service an UPSTREAM_UNAVAILABLE job failed on, stored as ImageJob.errorService (extensions.service's names). */
export type FailedService = 'dashscope' | 'oss' | 'billing';

const jobSelect = {
  id: true,
  tenantId: true,
  userId: true,
  prompt: true,
  negativePrompt: true,
  model: true,
  size: true,
  count: true,
  seed: true,
  referenceImageKey: true,
  referenceStrength: true,
  referenceMode: true,
  status: true,
  progress: true,
  taskId: true,
  submitStartedAt: true,
  reservationId: true,
  creditsPerImage: true,
  creditsCharged: true,
  createdAt: true,
} as const;

export type WorkerJob = NonNullable<Awaited<ReturnType<ReturnType<typeof createWorkerData>['load']>>>;

/**
 * The worker's writes to image jobs. Every state change is conditional on the state it leaves, so the worker, a
 * second worker that took a stalled job over, and cancelImageJob never both win: whoever moves the row first acts.
 */
export function createWorkerData(db: ImageDb) {
  return {
    load(jobId: string) {
      return db.imageJob.findUnique({ where: { id: jobId }, select: jobSelect });
    },
    async status(jobId: string): Promise<ImageJobStatus | null> {
      const row = await db.imageJob.findUnique({ where: { id: jobId }, select: { status: true } });
      return row?.status ?? null;
    },
    async markRunning(jobId: string, progress: number): Promise<boolean> {
      const { count } = await db.imageJob.updateMany({ where: { id: jobId, status: 'QUEUED' }, data: { status: 'RUNNING', progress } });
      return count === 1;
    },
    /**
     * Marks that a submit is about to start (only while no task is recorded): a runner that later finds the mark and
     * no task id knows this submit's outcome is unknown.
     */
    async markSubmitting(jobId: string, at: Date): Promise<void> {
      await db.imageJob.updateMany({ where: { id: jobId, taskId: null }, data: { submitStartedAt: at } });
    },
    /** Which of these DashScope task ids some job (of any tenant) has recorded. */
    async claimedTaskIds(taskIds: string[]): Promise<Set<string>> {
      if (taskIds.length === 0) return new Set();
      const rows = await db.imageJob.findMany({ where: { taskId: { in: taskIds } }, select: { taskId: true } });
      return new Set(rows.map((row) => row.taskId!));
    },
    /**
     * Records the DashScope task once; a task id already stored wins (returned), so a job never has two tasks. Null
     * when another job already holds this task id (the column is unique).
     */
    async recordTask(jobId: string, taskId: string): Promise<string | null> {
      try {
        // Stored by this call: no other task can be on the row (it was null, and the column is written once).
        const { count } = await db.imageJob.updateMany({ where: { id: jobId, taskId: null }, data: { taskId } });
        if (count === 1) return taskId;
      } catch (error) {
        // Another job holds this task (it adopted it as the task of its own interrupted submit): not ours to follow.
        if (isUniqueConstraintError(error)) return null;
        throw error;
      }
      const row = await db.imageJob.findUnique({ where: { id: jobId }, select: { taskId: true } });
      return row?.taskId ?? taskId;
    },
    async setProgress(jobId: string, progress: number): Promise<boolean> {
      const { count } = await db.imageJob.updateMany({ where: { id: jobId, status: 'RUNNING' }, data: { progress } });
      return count === 1;
    },
    /** Stores an image once: a second runner of the same job (a stalled job taken over) saving it again is a no-op. */
    async saveImage(image: { id: string; tenantId: string; userId: string; jobId: string; storageKey: string; width: number; height: number; contentType: string; byteSize: number }) {
      // INSERT IGNORE, atomic, where an upsert (read, then insert) lets two runners collide on the primary key.
      await db.image.createMany({ data: [image], skipDuplicates: true });
    },
    imagesOf(jobId: string) {
      return db.image.findMany({ where: { jobId, deletedAt: null }, select: { id: true, storageKey: true } });
    },
    async deleteImages(jobId: string) {
      await db.image.deleteMany({ where: { jobId } });
    },
    async succeed(jobId: string): Promise<boolean> {
      const { count } = await db.imageJob.updateMany({ where: { id: jobId, status: 'RUNNING' }, data: { status: 'SUCCEEDED', progress: 1, finishedAt: new Date() } });
      return count === 1;
    },
    async fail(jobId: string, error: { code: string; message: string; service?: FailedService }): Promise<boolean> {
      const { count } = await db.imageJob.updateMany({
        where: { id: jobId, status: { in: ['QUEUED', 'RUNNING'] } },
        data: { status: 'FAILED', error: error.message.slice(0, 1000), errorCode: error.code, errorService: error.service ?? null, finishedAt: new Date() },
      });
      return count === 1;
    },
    async recordCharge(jobId: string, credits: number) {
      await db.imageJob.updateMany({ where: { id: jobId, creditsCharged: null }, data: { creditsCharged: credits } });
    },
  };
}

export type WorkerData = ReturnType<typeof createWorkerData>;
