import { randomUUID } from 'node:crypto';
import type { Redis } from '@firefly/redis';

/** Key of the lease of the one runner of a job (the job id is a hash tag, like its progress stream). */
const leaseKey = (jobId: string) => `img:run:{${jobId}}`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface RunLease {
  /** Still ours (renewed in time)? Asked before an action that must not happen twice (submitting the task). */
  held(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * One runner per job, whatever BullMQ does. BullMQ hands a job to another runner when its lock was not renewed in
 * time — the worker died (kill -9), which is what takeover is for, but also a worker that is alive and merely starved
 * of CPU for longer than the lock, which then runs the same job twice at once. This lease (SET NX PX, renewed every
 * third of its life while the job runs, released at its end) makes a second runner step back while the first one
 * lives; one that finds the lease taken returns null and the job comes back later. The row's conditional moves and
 * billing's idempotent settlement keep even an overlap after a lost lease harmless; the lease keeps it from
 * submitting a second DashScope task.
 */
export async function acquireRunLease(redis: Redis, jobId: string, ttlMs: number, onLost: () => void): Promise<RunLease | null> {
  const key = leaseKey(jobId);
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
  let lost = false;
  const timer = setInterval(() => {
    redis.eval(RENEW, 1, key, token, ttlMs).then(
      (renewed) => {
        if (renewed !== 1 && !lost) {
          lost = true;
          onLost();
        }
      },
      () => undefined,
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    async held() {
      return !lost && (await redis.get(key)) === token;
    },
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}
