import { setTimeout as delay } from 'node:timers/promises';
import { DelayedError, Worker, type ConnectionOptions } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CreditsClient } from '@firefly/credits-client';
import type { Db, ImageDb } from '@firefly/db';
import type { DashScopeImageClient } from '@firefly/dashscope';
import { createImageQueue, createQueueConnection, IMAGE_QUEUE_NAME, queuePrefix, type ImageQueuePayload } from '@firefly/image-jobs';
import type { Logger } from '@firefly/logger';
import type { ObjectStorage } from '@firefly/oss';
import type { Redis } from '@firefly/redis';
import { createHttpShell } from '@firefly/server-kit';
import type { ImageWorkerConfig } from './config.ts';
import { createWorkerData } from './data.ts';
import { LeaseLostError, runImageJob, SubmitUndecidedError, ThrottledJobError, type InterruptedSubmitOutcome } from './process-job.ts';
import { acquireRunLease } from './run-lease.ts';

export { loadImageWorkerConfig, type ImageWorkerConfig } from './config.ts';

/** What the process hands the worker; it releases them itself after stop(). */
export interface ImageWorkerDeps {
  db: ImageDb & Pick<Db, '$queryRaw'>;
  /** Command connection with REDIS_KEY_PREFIX (progress streams); BullMQ opens its own connections. */
  redis: Redis;
  logger: Logger;
  credits: CreditsClient;
  dashscope: DashScopeImageClient;
  storage: ObjectStorage;
}

export interface ImageWorker {
  /** Health, readiness and metrics; resolves with the origin. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops taking jobs, lets running ones reach a safe point (they resume elsewhere), closes. */
  stop(): Promise<void>;
}

/**
 * The image worker: a BullMQ Worker on the image-jobs queue (IMAGE_WORKER_CONCURRENCY jobs at once; start more
 * processes to scale) and an HTTP shell with /healthz, /readyz and /metrics.
 */
export function buildImageWorker(config: ImageWorkerConfig, deps: ImageWorkerDeps): ImageWorker {
  const { logger } = deps;
  const shell = createHttpShell({
    service: 'image-worker',
    logger,
    readiness: [
      { name: 'mysql', check: () => deps.db.$queryRaw`SELECT 1` },
      { name: 'redis', check: () => deps.redis.ping() },
    ],
  });
  const registers = [shell.metrics.registry];
  const finished = new Counter({ name: 'image_jobs_finished_total', help: 'Image jobs finished by this worker, by status', labelNames: ['status'] as const, registers });
  const failures = new Counter({ name: 'image_job_failures_total', help: 'Failed image jobs by error code', labelNames: ['code'] as const, registers });
  const duration = new Histogram({ name: 'image_job_duration_seconds', help: 'From createImageJob to the job\'s end', buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600], registers });
  const taskLatency = new Histogram({ name: 'dashscope_image_task_seconds', help: 'From the first poll to a SUCCEEDED DashScope task', buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300], registers });
  const throttled = new Counter({ name: 'image_job_throttled_total', help: 'Submits DashScope throttled (the job waits in the queue and tries again)', registers });
  const stepBacks = new Counter({ name: 'image_job_step_backs_total', help: 'Times this worker found a job run by another runner (its run lease taken) and put it back for later', registers });
  const interruptedSubmits = new Counter({
    name: 'image_task_interrupted_submits_total',
    help: 'DashScope submits found interrupted (worker killed or answer lost before the task id was stored), by how they were resolved: adopted (the task was found and followed), none (no task was made), ambiguous / gave_up (a new task was submitted; the orphan is our cost, never the user\'s)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const retries = new Counter({ name: 'image_job_retries_total', help: 'Attempts that ended in a transient failure (retried by BullMQ)', registers });
  const queueSettings = { redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger, attempts: config.IMAGE_JOB_ATTEMPTS, backoffMs: config.IMAGE_JOB_BACKOFF_MS };
  const queue = createImageQueue(queueSettings);
  new Gauge({
    name: 'image_queue_jobs',
    help: 'Image jobs in the queue by state (shared by every worker)',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await queue.counts().catch(() => null);
      if (!counts) return;
      for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
    },
  });

  const closing = new AbortController();
  // timers/promises removes its abort listener when the timer fires, so polls do not pile listeners on the signal.
  const sleep = (ms: number): Promise<boolean> =>
    delay(ms, true, { signal: closing.signal }).catch(() => false);
  const runner = {
    data: createWorkerData(deps.db),
    redis: deps.redis,
    credits: deps.credits,
    dashscope: deps.dashscope,
    storage: deps.storage,
    logger,
    settings: {
      pollInitialMs: config.IMAGE_TASK_POLL_INITIAL_MS,
      pollMaxMs: config.IMAGE_TASK_POLL_MAX_MS,
      taskTimeoutMs: config.IMAGE_TASK_TIMEOUT_SECONDS * 1000,
      dashscopeTimeoutMs: config.DASHSCOPE_TIMEOUT_MS,
      progressMinIntervalMs: config.IMAGE_PROGRESS_MIN_INTERVAL_MS,
    },
    observe: {
      finished(status: string, code: string | undefined, seconds: number) {
        finished.inc({ status });
        if (code) failures.inc({ code });
        duration.observe(seconds);
      },
      taskLatency: (seconds: number) => taskLatency.observe(seconds),
      interruptedSubmit: (outcome: InterruptedSubmitOutcome) => interruptedSubmits.inc({ outcome }),
    },
    sleep,
  };

  const connection = createQueueConnection(queueSettings, 'image-worker-queue');
  const worker = new Worker<ImageQueuePayload>(
    IMAGE_QUEUE_NAME,
    async (job, token) => {
      const comeBackLater = async (delayMs: number) => {
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      };
      const jobId = job.data.jobId;
      const lease = await acquireRunLease(deps.redis, jobId, config.IMAGE_WORKER_LOCK_MS, () => logger.warn({ jobId }, 'image job: the run lease was lost (this worker was too slow to renew it)'));
      if (!lease) {
        // Another runner has the job (BullMQ handed it over while that runner is alive): come back when it is done.
        stepBacks.inc();
        return comeBackLater(config.IMAGE_WORKER_LOCK_MS / 2 + Math.random() * config.IMAGE_WORKER_LOCK_MS);
      }
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        await runImageJob(runner, jobId, lastAttempt, () => lease.held());
      } catch (error) {
        if (error instanceof ThrottledJobError) {
          // DashScope caps concurrent tasks per model: come back later without spending an attempt.
          throttled.inc();
          return comeBackLater(config.IMAGE_JOB_BACKOFF_MS / 2 + Math.random() * config.IMAGE_JOB_BACKOFF_MS);
        }
        if (error instanceof SubmitUndecidedError) {
          // A task an interrupted submit may have made is still running: look again once it can have finished.
          return comeBackLater(config.IMAGE_TASK_POLL_MAX_MS + Math.random() * config.IMAGE_TASK_POLL_MAX_MS);
        }
        if (error instanceof LeaseLostError) {
          stepBacks.inc();
          return comeBackLater(config.IMAGE_WORKER_LOCK_MS / 2);
        }
        retries.inc();
        logger.warn({ err: error, jobId, attempt: job.attemptsMade + 1 }, 'image job attempt failed; BullMQ retries it');
        throw error;
      } finally {
        await lease.release();
      }
    },
    {
      connection: connection as ConnectionOptions,
      prefix: queuePrefix(config.REDIS_KEY_PREFIX),
      concurrency: config.IMAGE_WORKER_CONCURRENCY,
      lockDuration: config.IMAGE_WORKER_LOCK_MS,
      stalledInterval: config.IMAGE_WORKER_LOCK_MS,
      // A stalled job (its worker died) is taken over; the row, not BullMQ, decides what happens then.
      maxStalledCount: 10,
      autorun: true,
    },
  );
  worker.on('error', (error) => logger.warn({ err: error }, 'image worker: queue error'));

  const stop = shell.createStop(
    async () => {
      closing.abort();
      await worker.close();
    },
    async () => {
      await queue.close();
      connection.disconnect();
    },
  );
  return {
    async listen(port, host) {
      const url = await shell.listen(port, host);
      return new URL(url).origin;
    },
    stop,
  };
}
