import type { Redis } from '@firefly/redis';

/** Where a job is in its life, as the schema's ImageJobStatus says it. */
export type ImageJobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

export const TERMINAL_STATUSES: ReadonlySet<ImageJobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/**
 * Every state change of a job (status, progress) is appended to a Redis Stream of its own, after the row was
 * written: `imageJobUpdated` follows that stream (any replica, any time), reading the row for each event. Keys are
 * relative to the client's keyPrefix; the job id is a hash tag so a job's keys share a Cluster slot.
 */
export const jobStreamKey = (jobId: string) => `img:job:{${jobId}}`;

/** A per-process control stream that wakes the image subgraph's shared stream reader. */
export const progressReaderControlKey = (instanceId: string) => `img:reader-ctl:${instanceId}`;

/** How long a job's stream outlives its last event (a subscriber arriving later reads the row alone). */
const STREAM_TTL_SECONDS = 24 * 3600;

export interface JobChange {
  status: ImageJobStatus;
  progress: number;
  /**
   * Set (true) only by a writer that knows the job has no stored image at this change (a job just taken from the
   * queue, a progress step while DashScope still renders): its subscribers' events then answer `images` without a
   * read. Unset means unknown (the images are read).
   */
  noImages?: boolean;
}

export async function publishJobChange(redis: Redis, jobId: string, change: JobChange): Promise<void> {
  const key = jobStreamKey(jobId);
  await redis
    .multi()
    .xadd(key, 'MAXLEN', '~', 1000, '*', 's', change.status, 'p', String(change.progress), 't', String(Date.now()), ...(change.noImages ? ['i', '0'] : []))
    .expire(key, STREAM_TTL_SECONDS)
    .exec();
}

/**
 * Status of the newest entry of a job's stream (null when it has none): a cheap sign that the job left its runner
 * (cancelImageJob, the sweep and a runner that finished it publish their terminal state), to be confirmed on the row.
 */
export async function latestJobStatus(redis: Redis, jobId: string): Promise<ImageJobStatus | null> {
  const newest = (await redis.xrevrange(jobStreamKey(jobId), '+', '-', 'COUNT', 1)) as [string, string[]][];
  const fields = newest[0]?.[1] ?? [];
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 's') return fields[i + 1] as ImageJobStatus;
  return null;
}

/**
 * Id of the newest entry of a job's stream, `0-0` when it has none. A subscriber takes it BEFORE reading the row and
 * follows from it: every change after it arrives as an entry, every change before it is already in the row read.
 */
export async function lastJobChangeId(redis: Redis, jobId: string): Promise<string> {
  const newest = (await redis.xrevrange(jobStreamKey(jobId), '+', '-', 'COUNT', 1)) as [string, string[]][];
  return newest[0]?.[0] ?? '0-0';
}
