import type { CreditsClient } from '@firefly/credits-client';
import { isDashScopeError, type DashScopeImageClient, type ImageTaskState } from '@firefly/dashscope';
import { latestJobStatus, publishJobChange, readImageFacts, TERMINAL_STATUSES, type ImageJobStatus } from '@firefly/image-jobs';
import type { Logger } from '@firefly/logger';
import type { ObjectStorage } from '@firefly/oss';
import type { Redis } from '@firefly/redis';
import type { FailedService, WorkerData, WorkerJob } from './data.ts';


export interface JobRunnerDeps {
  data: WorkerData;
  redis: Redis;
  credits: CreditsClient;
  dashscope: DashScopeImageClient;
  storage: ObjectStorage;
  logger: Logger;
  settings: {
    pollInitialMs: number;
    pollMaxMs: number;
    taskTimeoutMs: number;
    /** Longest one DashScope call may take: bounds when a submit's task can have been created. */
    dashscopeTimeoutMs: number;
    /** Least time between two published progress steps of one job (status changes always go out at once). */
    progressMinIntervalMs: number;
  };
  observe: {
    finished(outcome: ImageJobStatus, code: string | undefined, durationSeconds: number): void;
    taskLatency(seconds: number): void;
    /** How an interrupted submit (marked, no task recorded) was resolved. */
    interruptedSubmit(outcome: InterruptedSubmitOutcome): void;
  };
  /** Resolves after ms, or early when the worker is closing (then returns false). */
  sleep(ms: number): Promise<boolean>;
}

/** A failure worth another BullMQ attempt (throttling, 5xx, network, timeouts, billing or OSS hiccups). */
class TransientJobError extends Error {
  override readonly name = 'TransientJobError';
  constructor(
    message: string,
    /** The service that failed, named on the job if this was its last attempt (ImageJob.errorService). */
    readonly service?: FailedService,
  ) {
    super(message);
  }
}

/** DashScope throttled the submit (429): wait and try again, without spending one of the job's attempts. */
export class ThrottledJobError extends Error {
  override readonly name = 'ThrottledJobError';
}

/** The run lease was lost before the DashScope submit: step back; the job comes back later (no attempt spent). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/**
 * An earlier submit of this job was interrupted (worker killed, or its answer lost) and a task it may have made is
 * still running at DashScope, so whether it is ours cannot be told yet: come back later (no attempt spent).
 */
export class SubmitUndecidedError extends Error {
  override readonly name = 'SubmitUndecidedError';
}

/**
 * adopted: the interrupted submit's task was found and followed — one task, as if nothing happened;
 * none: it made no task (it never reached DashScope, or DashScope refused it) — submitting now is the first task;
 * ambiguous: more than one unclaimed task could be it — a new one is submitted (the orphan is our cost, never the user's);
 * gave_up: a candidate stayed unfinished past the task timeout — a new one is submitted.
 */
export type InterruptedSubmitOutcome = 'adopted' | 'none' | 'ambiguous' | 'gave_up';

/** Ends the job as FAILED with this code; never retried. */
class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly service?: FailedService,
  ) {
    super(message);
  }
}

/** The job ended under us (cancelled, or finished by another worker): stop quietly. */
class JobLeft extends Error {}

/**
 * Runs one image job to its end, from wherever it stands: a retried or taken-over job (its worker died) resumes the
 * DashScope task recorded on the row instead of submitting another — one task and one charge per job.
 *
 * `lastAttempt`: when a transient failure happens on the last BullMQ attempt, the job is failed (credits released)
 * instead of thrown back to a queue that would give up on it silently.
 */
export async function runImageJob(deps: JobRunnerDeps, jobId: string, lastAttempt: boolean, stillOurs: () => Promise<boolean> = async () => true): Promise<void> {
  const { data, logger } = deps;
  const job = await data.load(jobId);
  if (!job) return;
  const log = logger.child({ jobId, tenantId: job.tenantId });
  if (TERMINAL_STATUSES.has(job.status)) {
    await settleCredits(deps, job, job.status);
    return;
  }
  try {
    /** This runner moved the job out of QUEUED just now: no runner before it can have submitted a task for it. */
    let takenFromQueue = false;
    if (job.status === 'QUEUED') {
      if (!(await data.markRunning(jobId, 0.02))) throw new JobLeft();
      takenFromQueue = true;
      job.status = 'RUNNING';
      job.progress = 0.02;
      // Images are stored only while RUNNING, and this job was QUEUED until now: it has none.
      await publish(deps, jobId, 'RUNNING', 0.02, true);
    }
    const submitted = job.taskId === null;
    const taskId = job.taskId ?? (await submit(deps, job, log, stillOurs, takenFromQueue));
    // RUNNING 0.02 just went out (or, for a resumed job, long ago): the next step waits its interval from now.
    const steps = createStepThrottle(deps.settings.progressMinIntervalMs);
    // A task submitted a moment ago is still PENDING: its first poll waits pollInitialMs. A resumed one (a worker
    // died, a retry) may have finished meanwhile and is polled at once.
    const state = await pollUntilDone(deps, job, taskId, log, steps, submitted);
    await collectResults(deps, job, state, log, steps);
  } catch (error) {
    if (error instanceof JobLeft) {
      const status = await data.status(jobId);
      if (status && TERMINAL_STATUSES.has(status)) await settleCredits(deps, job, status);
      return;
    }
    if (error instanceof JobFailure) {
      await failJob(deps, job, error.code, error.message, error.code === 'UPSTREAM_UNAVAILABLE' ? error.service : undefined);
      return;
    }
    if (error instanceof ThrottledJobError || error instanceof LeaseLostError || error instanceof SubmitUndecidedError || (error instanceof TransientJobError && !lastAttempt)) throw error;
    log.error({ err: error }, 'image job failed');
    const code = error instanceof TransientJobError ? 'UPSTREAM_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR';
    await failJob(
      deps,
      job,
      code,
      code === 'UPSTREAM_UNAVAILABLE' ? 'The image service is unavailable; try again later' : 'Image generation failed',
      error instanceof TransientJobError ? error.service : undefined,
    );
  }
}

/** `noImages`: the job certainly has no stored image now (see JobChange.noImages). */
async function publish(deps: JobRunnerDeps, jobId: string, status: ImageJobStatus, progress: number, noImages = false): Promise<void> {
  try {
    await publishJobChange(deps.redis, jobId, { status, progress, noImages });
  } catch (error) {
    // The row is the truth; subscribers re-read it on their idle check.
    deps.logger.warn({ err: error, jobId }, 'could not publish an image job change');
  }
}

function asJobError(error: unknown, what: string): Error {
  if (isDashScopeError(error)) {
    if (error.retryable) return new TransientJobError(`${what}: ${error.message}`, 'dashscope');
    if (error.code === 'CONTENT_REJECTED') return new JobFailure('CONTENT_REJECTED', 'The prompt or the images were rejected by content moderation');
    return new JobFailure(error.code === 'BAD_USER_INPUT' ? 'BAD_USER_INPUT' : 'UPSTREAM_UNAVAILABLE', `${what}: ${error.message}`, 'dashscope');
  }
  return new TransientJobError(`${what}: ${error instanceof Error ? error.message : String(error)}`, 'dashscope');
}

/**
 * `takenFromQueue`: this runner moved the row from QUEUED to RUNNING (a conditional update only one runner wins) and
 * still holds the run lease, so the row has neither a task nor a submit mark (both are written only while RUNNING, by
 * the lease's holder) and is not read again.
 */
async function submit(deps: JobRunnerDeps, job: WorkerJob, log: Logger, stillOurs: () => Promise<boolean>, takenFromQueue: boolean): Promise<string> {
  // Another runner may have taken the job over meanwhile: never submit a second task for it.
  if (!(await stillOurs())) throw new LeaseLostError('the run lease was lost before submitting the task');
  const row = takenFromQueue ? { taskId: null, submitStartedAt: null } : await deps.data.load(job.id);
  if (row?.taskId) return row.taskId;
  if (row?.submitStartedAt) {
    // An earlier submit began and recorded no task: DashScope may have made one (there is no idempotency key).
    const adopted = await resolveInterruptedSubmit(deps, job, row.submitStartedAt, log);
    if (adopted) return adopted;
    if (!(await stillOurs())) throw new LeaseLostError('the run lease was lost before submitting the task');
  }
  // From here until the task id is stored, a crash leaves the outcome unknown: the mark tells the next runner so.
  await deps.data.markSubmitting(job.id, new Date());
  let taskId: string;
  try {
    // A reference image goes to DashScope as a signed GET URL of the upload (checked when the job was created).
    const refImageUrl = job.referenceImageKey ? deps.storage.publicUrl(job.referenceImageKey) : null;
    ({ taskId } = await deps.dashscope.submit({ model: job.model, prompt: job.prompt, negativePrompt: job.negativePrompt, size: job.size, n: job.count, seed: job.seed, refImageUrl, refStrength: job.referenceStrength, refMode: job.referenceMode }));
  } catch (error) {
    if (isDashScopeError(error) && error.kind === 'throttled') throw new ThrottledJobError(error.message);
    throw asJobError(error, 'submitting the DashScope task');
  }
  // Stored before the first poll: whoever runs this job next resumes this task.
  const stored = await deps.data.recordTask(job.id, taskId);
  if (stored === null) throw new TransientJobError('the submitted task is already held by another job');
  if (stored !== taskId) log.warn({ taskId, stored }, 'another worker recorded a task first; following it');
  log.info({ taskId: stored }, 'DashScope task submitted');
  return stored;
}

/** Margin around an interrupted submit's window for clock differences between us and DashScope. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Finds the task an interrupted submit made, if it made one. Candidates: DashScope's tasks of the job's model created
 * between the submit mark and the latest moment that submit could have been accepted, that no job recorded. A
 * SUCCEEDED candidate is the job's when its `orig_prompt` is the job's prompt and it was asked for the job's count;
 * unfinished ones cannot be told apart yet, so the job waits for them. Exactly one match is adopted (recorded under
 * the unique task id, so no other job can hold it). Otherwise a new task is submitted: the user is charged once in
 * any case (one hold per job, settled once); a second task is our cost, counted in image_task_interrupted_submits_total.
 */
async function resolveInterruptedSubmit(deps: JobRunnerDeps, job: WorkerJob, markedAt: Date, log: Logger): Promise<string | null> {
  const from = new Date(markedAt.getTime() - CLOCK_SKEW_MS);
  const to = new Date(markedAt.getTime() + deps.settings.dashscopeTimeoutMs + CLOCK_SKEW_MS);
  let listed;
  try {
    listed = await deps.dashscope.listTasks({ model: job.model, from, to });
  } catch (error) {
    // Never submit blindly: without the list the outcome stays unknown; this attempt fails and is retried.
    throw asJobError(error, 'listing DashScope tasks after an interrupted submit');
  }
  const claimed = await deps.data.claimedTaskIds(listed.map((task) => task.taskId));
  const unclaimed = listed.filter((task) => !claimed.has(task.taskId));
  const matches: string[] = [];
  let undecided = 0;
  for (const candidate of unclaimed) {
    if (candidate.status === 'PENDING' || candidate.status === 'RUNNING' || candidate.status === 'SUSPENDED') {
      undecided += 1;
      continue;
    }
    if (candidate.status !== 'SUCCEEDED') continue;
    let state: ImageTaskState;
    try {
      state = await deps.dashscope.get(candidate.taskId);
    } catch (error) {
      throw asJobError(error, 'reading a DashScope task after an interrupted submit');
    }
    const prompts = state.results.map((result) => result.origPrompt).filter((prompt) => prompt !== undefined);
    if (prompts.length > 0 && prompts.every((prompt) => prompt === job.prompt) && (state.total ?? state.results.length) === job.count) matches.push(candidate.taskId);
  }
  const outcome = (result: InterruptedSubmitOutcome, taskId?: string) => {
    deps.observe.interruptedSubmit(result);
    log.warn({ outcome: result, candidates: unclaimed.length, matches: matches.length, undecided, ...(taskId ? { taskId } : {}) }, 'resolved an interrupted DashScope submit');
  };
  if (undecided > 0 && Date.now() - markedAt.getTime() < deps.settings.taskTimeoutMs) {
    log.info({ undecided, matches: matches.length }, 'an interrupted submit may have made a task that is still running; waiting for it');
    throw new SubmitUndecidedError('an interrupted submit may have made a task that is still running');
  }
  if (matches.length === 1) {
    const stored = await deps.data.recordTask(job.id, matches[0]!);
    if (stored !== null) {
      outcome('adopted', stored);
      return stored;
    }
  }
  // (One match that another job recorded meanwhile counts as ambiguous: it was not ours to take.)
  outcome(matches.length >= 1 ? 'ambiguous' : undecided > 0 ? 'gave_up' : 'none');
  return null;
}

/** Longest a polling runner goes without reading its job's row (see pollUntilDone's `left`). */
const ROW_RECHECK_MS = 5_000;

/**
 * Progress steps of one job go out at most once per interval: every step is a row write, a stream entry, and an
 * event each subscriber's gateway resolves with fetches to other subgraphs (the owner's balance). Steps that come
 * faster than anyone can watch (polls every 100 ms) only queue up behind each other there and delay the events that
 * matter; status changes (RUNNING, the end) never wait.
 */
function createStepThrottle(minIntervalMs: number) {
  let last = Date.now();
  return {
    due: () => Date.now() - last >= minIntervalMs,
    taken: () => {
      last = Date.now();
    },
  };
}

type StepThrottle = ReturnType<typeof createStepThrottle>;

async function pollUntilDone(deps: JobRunnerDeps, job: WorkerJob, taskId: string, log: Logger, steps: StepThrottle, justSubmitted: boolean): Promise<ImageTaskState> {
  const { settings } = deps;
  let delay = settings.pollInitialMs;
  let progress = job.progress;
  let failures = 0;
  const startedAt = Date.now();
  // When the row was last read RUNNING (a just-submitted job's was moved or read by this runner a moment ago).
  let rowReadAt = justSubmitted ? startedAt : 0;
  /**
   * Whether the job left this runner (cancelled, failed by the sweep, finished by another runner). Everything that
   * ends a job appends its terminal state to the job's progress stream after the row, so a poll reads the stream's
   * newest entry (one Redis read) and reads the row only when that entry is terminal — or when the row was last read
   * ROW_RECHECK_MS ago or more, or the stream cannot be read, so an entry lost to a Redis hiccup delays noticing by
   * that much at most. The row decides; a job noticed late still ends right (succeed() is conditional on RUNNING).
   */
  const left = async (): Promise<boolean> => {
    if (Date.now() - rowReadAt < ROW_RECHECK_MS) {
      const latest = await latestJobStatus(deps.redis, job.id).catch(() => undefined);
      if (latest !== undefined && !(latest !== null && TERMINAL_STATUSES.has(latest))) return false;
    }
    rowReadAt = Date.now();
    return (await deps.data.status(job.id)) !== 'RUNNING';
  };
  if (justSubmitted) {
    // DashScope answers a task it accepted a moment ago PENDING: a poll now would learn nothing.
    if (!(await deps.sleep(delay))) throw new TransientJobError('the worker is shutting down');
    delay = Math.min(Math.round(delay * 1.5), settings.pollMaxMs);
  }
  for (;;) {
    if (await left()) {
      // Cancelled (or finished elsewhere): a PENDING task can still be cancelled at DashScope; results are discarded.
      await deps.dashscope.cancel(taskId).catch(() => false);
      throw new JobLeft();
    }
    let state: ImageTaskState | undefined;
    try {
      state = await deps.dashscope.get(taskId);
      failures = 0;
    } catch (error) {
      const mapped = asJobError(error, 'polling the DashScope task');
      if (mapped instanceof JobFailure || ++failures >= 5) throw mapped;
      log.warn({ err: error, taskId }, 'polling the DashScope task failed; polling again');
    }
    if (state) {
      switch (state.status) {
        case 'SUCCEEDED':
          deps.observe.taskLatency((Date.now() - startedAt) / 1000);
          return state;
        case 'FAILED': {
          const rejected = state.code?.includes('DataInspection');
          throw new JobFailure(rejected ? 'CONTENT_REJECTED' : 'UPSTREAM_UNAVAILABLE', rejected ? 'The images were rejected by content moderation' : `DashScope could not make the images (${state.code ?? 'unknown error'})`, 'dashscope');
        }
        case 'CANCELED':
          throw new JobFailure('UPSTREAM_UNAVAILABLE', 'DashScope cancelled the task', 'dashscope');
        case 'UNKNOWN':
          throw new JobFailure('UPSTREAM_UNAVAILABLE', 'DashScope no longer knows the task (expired)', 'dashscope');
        case 'RUNNING': {
          const next = Math.round((progress + (0.8 - progress) * 0.25) * 1000) / 1000;
          if (next - progress >= 0.01 && steps.due() && (await deps.data.setProgress(job.id, next))) {
            steps.taken();
            progress = next;
            // DashScope still renders this task, so nothing of it has been downloaded: results are stored only after
            // it SUCCEEDED, a task never goes back to RUNNING, and only the run lease's holder stores a job's images.
            await publish(deps, job.id, 'RUNNING', next, true);
          }
          break;
        }
        default:
          break;
      }
    }
    if (Date.now() - job.createdAt.getTime() > settings.taskTimeoutMs) throw new JobFailure('UPSTREAM_UNAVAILABLE', 'DashScope did not finish the images in time', 'dashscope');
    if (!(await deps.sleep(delay))) throw new TransientJobError('the worker is shutting down');
    delay = Math.min(Math.round(delay * 1.5), settings.pollMaxMs);
  }
}

async function collectResults(deps: JobRunnerDeps, job: WorkerJob, state: ImageTaskState, log: Logger, steps: StepThrottle): Promise<void> {
  const slots = state.results.slice(0, job.count);
  const produced = slots.filter((slot) => slot.url);
  let stored = 0;
  let progress = 0.8;
  // The poll that saw the task SUCCEEDED found the job still this runner's just before: the first download goes ahead
  // without a read (a cancel meanwhile is caught before the next one, and by succeed(), which discards the images).
  let checked = true;
  for (const [n, slot] of slots.entries()) {
    if (!slot.url) continue;
    if (!checked && (await deps.data.status(job.id)) !== 'RUNNING') throw new JobLeft();
    checked = false;
    const imageId = `${job.id}-${n}`;
    let bytes: Buffer;
    try {
      ({ bytes } = await deps.dashscope.download(slot.url));
    } catch (error) {
      throw asJobError(error, 'downloading a result');
    }
    const facts = readImageFacts(bytes);
    if (!facts) {
      log.warn({ slot: n }, 'a DashScope result is not an image we can keep; skipped');
      continue;
    }
    const storageKey = `${job.tenantId}/${job.userId}/${job.id}/${n}.${facts.extension}`;
    try {
      await deps.storage.put(storageKey, bytes, facts.contentType);
    } catch (error) {
      throw new TransientJobError(`storing a result: ${(error as Error).message}`, 'oss');
    }
    await deps.data.saveImage({ id: imageId, tenantId: job.tenantId, userId: job.userId, jobId: job.id, storageKey, width: facts.width, height: facts.height, contentType: facts.contentType, byteSize: bytes.length });
    stored += 1;
    progress = Math.round((0.8 + (0.19 * stored) / produced.length) * 1000) / 1000;
    // After the last image the next change is SUCCEEDED itself (progress 1): a step just before it would be a row
    // write, a stream entry and an event that the end supersedes at once.
    if (stored < produced.length && steps.due() && (await deps.data.setProgress(job.id, progress))) {
      steps.taken();
      await publish(deps, job.id, 'RUNNING', progress);
    }
  }
  if (stored === 0) {
    const rejected = slots.some((slot) => slot.code?.includes('DataInspection'));
    throw new JobFailure(rejected ? 'CONTENT_REJECTED' : 'UPSTREAM_UNAVAILABLE', rejected ? 'The images were rejected by content moderation' : 'DashScope produced no image', 'dashscope');
  }
  if (!(await deps.data.succeed(job.id))) {
    // Cancelled (or failed) while the results arrived: they are discarded, and the hold is released. A job another
    // runner already finished SUCCEEDED keeps its images.
    const status = await deps.data.status(job.id);
    if (status === 'CANCELED' || status === 'FAILED') await discardImages(deps, job.id);
    throw new JobLeft();
  }
  deps.observe.finished('SUCCEEDED', undefined, (Date.now() - job.createdAt.getTime()) / 1000);
  // Subscribers hear of the end once the charge is on the row too (they read the row for each event).
  try {
    // This runner's succeed() ended the job just now, so the row is as loaded when the job began: not settled yet.
    await settleCredits(deps, job, 'SUCCEEDED', job);
  } finally {
    await publish(deps, job.id, 'SUCCEEDED', 1);
  }
}

async function discardImages(deps: JobRunnerDeps, jobId: string): Promise<void> {
  for (const image of await deps.data.imagesOf(jobId)) await deps.storage.delete(image.storageKey).catch(() => undefined);
  await deps.data.deleteImages(jobId);
}

async function failJob(deps: JobRunnerDeps, job: WorkerJob, code: string, message: string, service?: FailedService): Promise<void> {
  const failed = await deps.data.fail(job.id, { code, message, service });
  if (failed) {
    await discardImages(deps, job.id);
    deps.observe.finished('FAILED', code, (Date.now() - job.createdAt.getTime()) / 1000);
  }
  try {
    const status = await deps.data.status(job.id);
    if (status && TERMINAL_STATUSES.has(status)) await settleCredits(deps, job, status);
  } finally {
    if (failed) await publish(deps, job.id, 'FAILED', job.progress);
  }
}

/**
 * The hold of a finished job, settled once: SUCCEEDED pays for the images actually stored, FAILED and CANCELED
 * release everything. Billing's calls are idempotent by reservation, and creditsCharged records that it happened,
 * so a worker that died in between finishes the job's accounting on the next attempt.
 */
async function settleCredits(deps: JobRunnerDeps, job: WorkerJob, status: ImageJobStatus, current?: WorkerJob): Promise<void> {
  // `current`: the row as it stands, known to the caller (else read). Settling twice is harmless (billing answers a
  // reservation's settlement again, and the charge is recorded once); the read only spares billing a call.
  const row = current ?? (await deps.data.load(job.id));
  if (!row || row.creditsCharged !== null || !row.reservationId) return;
  const scope = { tenantId: row.tenantId };
  try {
    if (status === 'SUCCEEDED') {
      // At the price the credits were held at: stored with the job since it was created, so no billing call; a job
      // created before that was stored asks billing for the price in force at its reservation (prices are versioned).
      const images = (await deps.data.imagesOf(row.id)).length;
      const amount =
        images === 0
          ? 0
          : row.creditsPerImage !== null
            ? images * row.creditsPerImage
            : await deps.credits.quoteImage({ ...scope, modelId: row.model, size: row.size, count: images, reservationId: row.reservationId });
      const settled = await deps.credits.settle({ ...scope, reservationId: row.reservationId, actualAmount: amount, reason: 'IMAGE_USAGE', referenceId: row.id });
      await deps.data.recordCharge(row.id, settled.settledAmount ?? amount);
    } else {
      await deps.credits.release({ ...scope, reservationId: row.reservationId });
      await deps.data.recordCharge(row.id, 0);
    }
  } catch (error) {
    throw new TransientJobError(`settling credits: ${(error as Error).message}`, 'billing');
  }
}
