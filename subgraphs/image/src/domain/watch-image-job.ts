import { notFound } from '@firefly/errors';
import { jobStreamKey, lastJobChangeId, TERMINAL_STATUSES } from '@firefly/image-jobs';
import { createFollow, FOLLOW_DONE } from '@firefly/redis';
import { requireUserId } from '@firefly/server-kit';
import type { ImageContext } from '../context.ts';
import type { ImageJobRow } from '../data/jobs.ts';

/** A finished job is final once its credits were settled (or it never held any): nothing about it changes after. */
function isFinal(job: ImageJobRow): boolean {
  return TERMINAL_STATUSES.has(job.status) && (job.creditsCharged !== null || job.reservationId === null);
}

/**
 * Rows handed out by an event that the job certainly has no stored image at (the writer said so: JobChange.noImages),
 * so `ImageJob.images` answers [] without a read. Most of a job's events are such progress steps.
 */
const rowsWithoutImages = new WeakSet<ImageJobRow>();

/** True when the job had no image when this row was handed out: QUEUED (images are stored only while RUNNING), or an event said so. */
export function certainlyWithoutImages(job: ImageJobRow): boolean {
  return job.status === 'QUEUED' || rowsWithoutImages.has(job);
}

/** What a subscriber sees change: an event is sent only when one of these moved. */
const signature = (job: ImageJobRow) => `${job.status}|${job.progress}|${job.creditsCharged ?? ''}`;

interface IteratorOptions {
  ctx: ImageContext;
  jobId: string;
  first: ImageJobRow;
  /** The progress stream's newest entry id taken before `first` was read: following from it loses nothing. */
  from: string;
}

/**
 * The iterator behind one `imageJobUpdated` subscription. The job row is the truth and the progress stream
 * (`img:job:{id}`, written by the subgraph and the workers after each row change) says what changed: each batch of
 * entries read by the shared stream reader makes the iterator read the row once and hand it out if something a
 * subscriber sees changed — so events are in order, never stale and never repeated, and a burst of changes costs one
 * read. A batch of RUNNING progress steps alone (most of a job's events) changes nothing but `status` and `progress`
 * on the row, so its event is the last row with the newest step's progress, without a read (never backwards). It ends after a terminal state; a terminal row whose credits are not settled yet is held back until the
 * worker's terminal entry (published after the settlement) or the next quiet re-check, so the last event carries
 * `creditsCharged` and the owner's settled balance.
 *
 * `return()` acts at once (Follow.iterator in @firefly/redis). When the stream was quiet for IMAGE_JOB_RECHECK_MS
 * the row is read anyway, so a lost stream entry (Redis hiccup in the worker) delays an event but never loses it.
 */
function createIterator(options: IteratorOptions): AsyncIterableIterator<ImageJobRow> {
  const { ctx, jobId } = options;
  const { services } = ctx;
  let pendingFirst: ImageJobRow | null = options.first;
  let lastSignature = '';
  let endAfterThis = false;
  let changed = false;
  let terminalEntry = false;
  let recheck = false;
  /**
   * Progress of the newest entries when every one since the last look was a RUNNING progress step (null otherwise):
   * such a step changes the row's `status` and `progress` only, so the event is the last row with them — no read.
   */
  let runningStep: number | null = null;
  /** Every entry behind `runningStep` said the job has no stored image (JobChange.noImages). */
  let stepWithoutImages = false;
  /** Stamp (ms, the writer's clock) of the newest entry not yet answered by an event; null when none. */
  let changeStamp: number | null = null;
  let lastActivity = Date.now();

  services.watch.active += 1;
  const follow = createFollow(() => {
    unsubscribe();
    services.watch.active -= 1;
  });
  const unsubscribe = services.progress.follow(jobStreamKey(jobId), options.from, (entries) => {
    lastActivity = Date.now();
    const stamp = Number(entries.at(-1)!.fields.get('t'));
    if (Number.isFinite(stamp)) changeStamp = stamp;
    const onlyRunning = entries.every((entry) => entry.fields.get('s') === 'RUNNING');
    const fresh = !changed;
    // Any other entry (QUEUED again, a terminal state) since the last look means the row is read.
    runningStep = onlyRunning && (fresh || runningStep !== null) ? Number(entries.at(-1)!.fields.get('p')) : null;
    stepWithoutImages = runningStep !== null && entries.every((entry) => entry.fields.get('i') === '0') && (fresh || stepWithoutImages);
    changed = true;
    if (entries.some((entry) => TERMINAL_STATUSES.has(entry.fields.get('s') as ImageJobRow['status']))) terminalEntry = true;
    follow.wake();
  });
  follow.every(Math.max(50, Math.floor(services.watch.recheckMs / 2)), () => {
    if (follow.ended || Date.now() - lastActivity < services.watch.recheckMs) return;
    lastActivity = Date.now();
    changed = true;
    recheck = true;
    runningStep = null;
    stepWithoutImages = false;
    follow.wake();
  });

  let lastJob: ImageJobRow | null = null;
  const emit = (job: ImageJobRow, forced = false): IteratorResult<ImageJobRow> => {
    if (changeStamp !== null && lastJob !== null) services.watch.observeDelay((Date.now() - changeStamp) / 1000);
    changeStamp = null;
    lastJob = job;
    lastSignature = signature(job);
    if (TERMINAL_STATUSES.has(job.status) && (isFinal(job) || terminalEntry || forced)) {
      // Nothing more will come: stop following now; the next next() ends the stream.
      endAfterThis = true;
      unsubscribe();
    }
    return { done: false, value: job };
  };

  return follow.iterator<ImageJobRow>(async () => {
    if (pendingFirst) {
      const first = pendingFirst;
      pendingFirst = null;
      return emit(first);
    }
    for (;;) {
      if (follow.ended || endAfterThis) {
        follow.end();
        return FOLLOW_DONE;
      }
      if (!changed) {
        await follow.wait();
        continue;
      }
      changed = false;
      const forced = recheck;
      recheck = false;
      const step = runningStep;
      const withoutImages = stepWithoutImages;
      runningStep = null;
      stepWithoutImages = false;
      if (step !== null && Number.isFinite(step) && lastJob !== null && (lastJob.status === 'QUEUED' || lastJob.status === 'RUNNING')) {
        // A progress step: the last row as it now stands, without a read. Never backwards (a late entry).
        if (lastJob.status === 'RUNNING' && step <= lastJob.progress) continue;
        const row: ImageJobRow = { ...lastJob, status: 'RUNNING', progress: step };
        if (withoutImages) rowsWithoutImages.add(row);
        return emit(row);
      }
      const job = (await ctx.jobs.findByIds([jobId]))[0];
      if (follow.ended) return FOLLOW_DONE;
      if (!job) {
        follow.end();
        return FOLLOW_DONE;
      }
      // Finished but not settled yet: the worker's terminal entry (after the settlement) or a re-check comes next.
      if (TERMINAL_STATUSES.has(job.status) && !isFinal(job) && !terminalEntry && !forced) continue;
      if (signature(job) === lastSignature) {
        // Already sent as it is, and it will not change any more (the re-check gave up waiting for the settlement).
        if (forced && TERMINAL_STATUSES.has(job.status)) {
          follow.end();
          return FOLLOW_DONE;
        }
        continue;
      }
      return emit(job, forced);
    }
  });
}

/**
 * imageJobUpdated(jobId): only the job's owner may follow it (NOT_FOUND for anyone else, exactly as for a missing id;
 * the repository is scoped to the caller's tenant). The first event is the job as it stands; then one event per
 * visible change, from any replica (the progress stream lives in Redis), until a terminal state. A client that
 * reconnects subscribes again and gets the current state first, so no state is lost across a reconnect.
 */
export async function watchImageJob(ctx: ImageContext, jobId: string): Promise<AsyncIterableIterator<ImageJobRow>> {
  const userId = requireUserId(ctx);
  // Taken before the row is read: a change after this id arrives as an entry, one before it is in the row.
  const from = await lastJobChangeId(ctx.services.redis, jobId);
  const first = (await ctx.jobs.findByIds([jobId]))[0];
  if (!first || first.userId !== userId) throw notFound('image job');
  return createIterator({ ctx, jobId, first, from });
}
