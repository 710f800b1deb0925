import type { ImageDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { ImageServices } from '../services.ts';

/** Sorted set of holds whose request failed to store its job, scored by when the sweep may look at them (ms). */
const ORPHANED_HOLDS_KEY = 'image:orphaned-holds';
/**
 * How long after its request failed a hold is left alone. An identical request (same idempotencyKey, sharing the
 * hold) may still be between its hold and its job INSERT; no request lives this long, so a hold with no job after it
 * is orphaned.
 */
export const ORPHANED_HOLD_GRACE_MS = 10 * 60_000;

export interface OrphanedHold {
  tenantId: string;
  reservationId: string;
  /** The job id the hold was taken for (derived from the idempotencyKey, so an identical request stores this id). */
  jobId: string;
}

type HoldDeps = { services: Pick<ImageServices, 'redis'> };

/**
 * Leaves a hold whose request could not store its job to the sweep (sweepOrphanedHolds) instead of releasing it now:
 * an identical request may store the job on it later, and that job must find its hold HELD or its images go uncharged.
 */
export async function parkOrphanedHold(deps: HoldDeps, hold: OrphanedHold, now = Date.now()): Promise<void> {
  await deps.services.redis.zadd(ORPHANED_HOLDS_KEY, now + ORPHANED_HOLD_GRACE_MS, JSON.stringify(hold));
}

export interface OrphanedHoldSweepDeps {
  /** Unscoped: holds of every tenant. */
  db: ImageDb;
  services: Pick<ImageServices, 'redis' | 'credits'>;
  logger: Logger;
}

/**
 * Releases the parked holds whose grace is over and that no job uses (no job with their id, or one on another hold);
 * a hold a job uses is the job's (the worker settles or releases it) and is only forgotten. A hold is forgotten once
 * looked at; a failed release leaves it parked for the next round (billing releases it at expiry in any case).
 * Replicas may sweep at once: releasing is idempotent. Returns the holds released.
 */
export async function sweepOrphanedHolds(deps: OrphanedHoldSweepDeps, options: { now?: number; limit?: number } = {}): Promise<number> {
  const { redis, credits } = deps.services;
  const due = await redis.zrangebyscore(ORPHANED_HOLDS_KEY, '-inf', options.now ?? Date.now(), 'LIMIT', 0, options.limit ?? 100);
  let released = 0;
  for (const member of due) {
    const hold = JSON.parse(member) as OrphanedHold;
    const job = await deps.db.imageJob.findFirst({ where: { id: hold.jobId }, select: { reservationId: true } });
    if (job?.reservationId !== hold.reservationId) {
      try {
        await credits.release({ tenantId: hold.tenantId, reservationId: hold.reservationId });
      } catch (error) {
        deps.logger.warn({ err: error, ...hold }, 'could not release an orphaned image hold; trying again next round');
        continue;
      }
      released += 1;
      deps.logger.info(hold, 'released the hold of an image request that stored no job');
    }
    await redis.zrem(ORPHANED_HOLDS_KEY, member);
  }
  return released;
}
