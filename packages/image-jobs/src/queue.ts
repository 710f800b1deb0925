import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { createRedis, type Redis } from '@firefly/redis';
import type { Logger } from '@firefly/logger';

/** The one BullMQ queue of image jobs: the image subgraph adds, every image worker takes. */
export const IMAGE_QUEUE_NAME = 'image-jobs';

/** What a queued entry carries: just enough to load the job (the row in MySQL is the truth). */
export interface ImageQueuePayload {
  jobId: string;
  tenantId: string;
}

export interface ImageQueueSettings {
  redisUrl: string;
  /** REDIS_KEY_PREFIX: BullMQ's keys live under `<prefix>bull:image-jobs:*` (BullMQ refuses ioredis's own keyPrefix). */
  keyPrefix: string;
  logger: Logger;
  /** Attempts of one job before it fails for good (transient failures only; each resumes the same DashScope task). */
  attempts: number;
  /** First retry delay; BullMQ doubles it each attempt. */
  backoffMs: number;
}

/**
 * BullMQ wants its own connection without keyPrefix. A worker's needs unlimited retries (its blocking commands wait
 * for Redis to come back); a producer's fails fast like every request-path client, so adding a job while Redis is
 * down fails at once (UPSTREAM_UNAVAILABLE) instead of hanging the request.
 */
export function createQueueConnection(settings: Pick<ImageQueueSettings, 'redisUrl' | 'logger'>, name: string, role: 'producer' | 'worker' = 'worker'): Redis {
  return createRedis({ url: settings.redisUrl, name, logger: settings.logger, ...(role === 'worker' ? { maxRetriesPerRequest: null } : {}) });
}

export const queuePrefix = (keyPrefix: string) => `${keyPrefix}bull`;

/**
 * Job options: the BullMQ job id IS the image job id, so adding the same job twice while it is queued or running is a
 * no-op; finished entries are removed (the row keeps the history), so a job can be re-queued by recovery.
 */
export function jobOptions(settings: Pick<ImageQueueSettings, 'attempts' | 'backoffMs'>, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: true,
    removeOnFail: { age: 24 * 3600, count: 10_000 },
  };
}

/** The producer side, for the image subgraph. */
export interface ImageQueue {
  enqueue(payload: ImageQueuePayload): Promise<void>;
  /** Takes a job out of the queue if it is still waiting; false when a worker already has it (or it is gone). */
  removeWaiting(jobId: string): Promise<boolean>;
  /**
   * Queues a job again unless the queue still has it (waiting, delayed or running): for a job whose entry was never
   * added (a crash between the row and the queue), or that BullMQ gave up on. A failed or finished entry with the
   * same id is removed first (BullMQ ignores an add whose id it still keeps). True when it was added.
   */
  requeue(payload: ImageQueuePayload): Promise<boolean>;
  /** The queue still carries the job (waiting, delayed or running). */
  isQueued(jobId: string): Promise<boolean>;
  /** Jobs waiting (including delayed retries) and running. */
  counts(): Promise<{ waiting: number; active: number; delayed: number; failed: number }>;
  close(): Promise<void>;
}

/** A queue entry that a worker will still run (or runs). */
const isLive = (state: string) => state !== 'failed' && state !== 'completed' && state !== 'unknown';

export function createImageQueue(settings: ImageQueueSettings): ImageQueue {
  const connection = createQueueConnection(settings, 'image-queue', 'producer');
  const queue = new Queue<ImageQueuePayload>(IMAGE_QUEUE_NAME, { connection: connection as ConnectionOptions, prefix: queuePrefix(settings.keyPrefix) });
  queue.on('error', (error) => settings.logger.warn({ err: error }, 'image queue: Redis error'));
  return {
    async enqueue(payload) {
      await queue.add('generate', payload, jobOptions(settings, payload.jobId));
    },
    async removeWaiting(jobId) {
      const job = await queue.getJob(jobId);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      try {
        await job.remove();
        return true;
      } catch {
        // A worker locked it between the two calls.
        return false;
      }
    },
    async requeue(payload) {
      const existing = await queue.getJob(payload.jobId);
      if (existing) {
        if (isLive(await existing.getState())) return false;
        await existing.remove().catch(() => undefined);
      }
      await queue.add('generate', payload, jobOptions(settings, payload.jobId));
      return true;
    },
    async isQueued(jobId) {
      const existing = await queue.getJob(jobId);
      return existing ? isLive(await existing.getState()) : false;
    },
    async counts() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
