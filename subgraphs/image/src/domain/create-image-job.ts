import { createHash, randomUUID } from 'node:crypto';
import { badUserInput, conflict, isAppError, rateLimited } from '@firefly/errors';
import { publishJobChange } from '@firefly/image-jobs';
import type { Logger } from '@firefly/logger';
import type { ImageJobRow } from '../data/jobs.ts';
import type { ImageContext } from '../context.ts';
import { parkOrphanedHold } from './orphaned-holds.ts';
import { checkReferenceImage } from './uploads.ts';

export interface CreateImageJobInput {
  prompt: string;
  negativePrompt?: string | null;
  model?: string | null;
  size?: string | null;
  count?: number | null;
  seed?: number | null;
  idempotencyKey?: string | null;
  referenceImageKey?: string | null;
  referenceStrength?: number | null;
  referenceMode?: 'REPAINT' | 'REFONLY' | null;
}

const MAX_PROMPT = 800;
const MAX_NEGATIVE_PROMPT = 500;
const MAX_SEED = 2_147_483_647;
const MAX_IDEMPOTENCY_KEY = 128;

interface Owner {
  tenantId: string;
  userId: string;
}

/**
 * createImageJob: validates against the model catalog (BAD_USER_INPUT naming the field), honours idempotencyKey per
 * user, holds count × price credits (INSUFFICIENT_CREDITS creates nothing), stores the job QUEUED and queues it.
 *
 * Duplicates and races: with an idempotencyKey the job id is derived from it and the credit hold is keyed by it and
 * by what is priced (model, size, count: {@link imageHoldKeyFor}), so two concurrent identical requests ask for the
 * same hold for the same job; the primary key then lets exactly one insert, and the other answers the stored job.
 * The same key with other parameters still answers the first job (the key names the request, not its content) —
 * sent at the same time, each holds for its own parameters, the job stored runs on its own hold, and the other
 * request gives its hold back. (With one hold for the key, a 4-image request could store its job on the hold of a
 * 1-image request with the same key and be charged for one image.) A request that cannot store its job does not give
 * its hold back (an identical request may still store the job on it): the sweep releases it once orphaned.
 */
export async function createImageJob(ctx: ImageContext, owner: Owner, input: CreateImageJobInput): Promise<ImageJobRow> {
  const key = input.idempotencyKey?.trim() || null;
  if (key !== null && key.length > MAX_IDEMPOTENCY_KEY) throw badUserInput(`idempotencyKey must be at most ${MAX_IDEMPOTENCY_KEY} characters`, { field: 'idempotencyKey' });
  if (key !== null) {
    const existing = await ctx.jobs.findByIdempotencyKey(owner.userId, key);
    if (existing) return ensureQueued(ctx, existing);
  }
  const request = await validate(ctx, input);
  const reference = await validateReference(ctx, owner, request.model, input);

  const active = await ctx.jobs.countActive(owner.userId);
  const maxActive = ctx.services.jobs.maxActivePerUser; // the run-time setting, read once per request
  if (active >= maxActive) {
    throw rateLimited(10, `At most ${maxActive} image jobs may be queued or running at once`);
  }

  const { credits } = ctx.services;
  const scope = { tenantId: owner.tenantId, requestId: ctx.requestId };
  // With an idempotencyKey the job id is derived from it, so concurrent duplicates ask billing for the very same hold.
  const proposedId = key !== null ? imageJobIdForKey(owner.tenantId, owner.userId, key) : randomUUID();
  let reservation: Awaited<ReturnType<typeof credits.reserveImage>>;
  try {
    // Priced and held by billing in one call (count × today's price per image). INSUFFICIENT_CREDITS propagates as
    // it is: nothing has been created yet.
    reservation = await credits.reserveImage({
      ...scope,
      // A partner's key made the request: billing tags the hold, and so the job's charge, with the partner.
      partner: ctx.identity.partner,
      userId: owner.userId,
      modelId: request.model,
      size: request.size,
      count: request.count,
      referenceId: proposedId,
      ttlSeconds: ctx.services.jobs.holdSeconds,
      idempotencyKey: key !== null ? imageHoldKeyFor(owner.userId, key, request) : `image-job:${proposedId}`,
    });
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') throw badUserInput(`The model ${request.model} cannot be used: it has no price`, { field: 'model' });
    throw error;
  }
  if (reservation.status !== 'HELD') {
    // Billing answers a key's first hold whatever became of it. Released with no job stored: an earlier attempt with
    // this key held, then failed to store its job and gave the credits back. Never start a job on a spent hold — it
    // would run and never be charged (the worker's settle is refused once a hold is released).
    const existing = key !== null ? await ctx.jobs.findByIdempotencyKey(owner.userId, key) : null;
    if (existing) return ensureQueued(ctx, existing);
    throw conflict('An earlier request with this idempotencyKey failed and its credits were returned: send it again with a new idempotencyKey', {
      field: 'idempotencyKey',
    });
  }
  const jobId = reservation.referenceId;
  // The hold is count × the price per image in force now: stored with the job, the worker settles images produced ×
  // that price without asking billing again (a price changed meanwhile does not apply to this job).
  const perImage = reservation.amount / request.count;
  const row = {
    id: jobId,
    userId: owner.userId,
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    model: request.model,
    size: request.size,
    count: request.count,
    seed: request.seed,
    reservationId: reservation.id,
    creditsHeld: reservation.amount,
    creditsPerImage: Number.isSafeInteger(perImage) ? perImage : null,
    idempotencyKey: key,
    ...reference,
  };
  let job: ImageJobRow | null;
  try {
    // Tried twice: once failed (a dropped connection, a lock wait given up), the same row once more decides — stored,
    // or a duplicate's stored job answered below (with a key, an identical request shares this hold). Only when both
    // fail is the hold looked at and given back.
    job = await ctx.jobs.create(row).catch(() => ctx.jobs.create(row));
  } catch (error) {
    // Not given back here: with a key, an identical request shares this hold and may store the job on it — already
    // (answered below) or only later, its INSERT still on the way — and without one, an INSERT whose answer was lost
    // may have stored the job all the same. A job on a released hold runs uncharged, so the hold is parked for the
    // sweep, which releases it once no request can still store a job on it and none did (orphaned-holds.ts).
    const stored = await ctx.jobs.findByIds([jobId]).then((rows) => rows[0], () => undefined);
    if (stored && stored.reservationId === reservation.id) return ensureQueued(ctx, stored);
    await parkOrphanedHold(ctx, { tenantId: owner.tenantId, reservationId: reservation.id, jobId }).catch((parkError: unknown) =>
      ctx.logger.warn({ err: parkError, reservationId: reservation.id }, 'could not park the hold of a job that was not created; billing releases it at expiry'),
    );
    throw error;
  }
  if (job === null) {
    // A concurrent duplicate inserted first; it owns its hold — the same one when it asked for the same images, else
    // its own, and this request's is given back.
    const existing = (key !== null ? await ctx.jobs.findByIdempotencyKey(owner.userId, key) : null) ?? (await ctx.jobs.findByIds([jobId]))[0];
    if (!existing) throw new Error(`image job ${jobId} collided but cannot be found`);
    if (existing.reservationId !== reservation.id) {
      await credits.release({ ...scope, reservationId: reservation.id }).catch((releaseError: unknown) => ctx.logger.warn({ err: releaseError }, 'could not release the hold of a duplicate request'));
    }
    return ensureQueued(ctx, existing);
  }
  await publishQueued(ctx.services.redis, job, ctx.logger);
  await ctx.services.queue.enqueue({ jobId: job.id, tenantId: owner.tenantId });
  return job;
}

/** The job id a user's idempotencyKey stands for (a UUID derived from tenant, user and key), so duplicates share it. */
export function imageJobIdForKey(tenantId: string, userId: string, key: string): string {
  const hex = createHash('sha256').update(`image-job\0${tenantId}\0${userId}\0${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The idempotency key of the credit hold of a request with the user's `key`: one per key and priced parameters (a
 * digest, within billing's key length), so a hold is only ever shared by requests for the same images.
 */
export function imageHoldKeyFor(userId: string, key: string, priced: { model: string; size: string; count: number }): string {
  return `image-request:${createHash('sha256').update(`${userId}\0${key}\0${priced.model}\0${priced.size}\0${priced.count}`).digest('base64url')}`;
}

/** A replayed request whose job is still QUEUED re-adds it to the queue (a no-op while BullMQ still has it). */
async function ensureQueued(ctx: ImageContext, job: ImageJobRow): Promise<ImageJobRow> {
  if (job.status === 'QUEUED') await ctx.services.queue.enqueue({ jobId: job.id, tenantId: job.tenantId });
  return job;
}

async function publishQueued(redis: ImageContext['services']['redis'], job: ImageJobRow, logger: Logger): Promise<void> {
  try {
    await publishJobChange(redis, job.id, { status: 'QUEUED', progress: 0 });
  } catch (error) {
    logger.warn({ err: error, jobId: job.id }, 'could not publish a new image job');
  }
}

/** The reference image and how it is used; strength and mode only come with an image (BAD_USER_INPUT naming each). */
async function validateReference(ctx: ImageContext, owner: Owner, model: string, input: CreateImageJobInput) {
  const key = input.referenceImageKey?.trim() || null;
  const strength = input.referenceStrength ?? null;
  const mode = input.referenceMode ?? null;
  if (strength !== null && (!Number.isFinite(strength) || strength < 0 || strength > 1)) {
    throw badUserInput('referenceStrength must be from 0 to 1', { field: 'referenceStrength' });
  }
  if (key === null) {
    if (strength !== null) throw badUserInput('referenceStrength needs a reference image (referenceImageKey)', { field: 'referenceStrength' });
    if (mode !== null) throw badUserInput('referenceMode needs a reference image (referenceImageKey)', { field: 'referenceMode' });
    return { referenceImageKey: null, referenceStrength: null, referenceMode: null };
  }
  if (!ctx.services.referenceModels.has(model)) {
    throw badUserInput(`The model ${model} does not take a reference image (models that do: ${[...ctx.services.referenceModels].join(', ') || 'none'})`, { field: 'referenceImageKey' });
  }
  const referenceImageKey = await checkReferenceImage(ctx.services, owner, key);
  return { referenceImageKey, referenceStrength: strength, referenceMode: mode === null ? null : mode === 'REFONLY' ? 'refonly' : 'repaint' };
}

async function validate(ctx: ImageContext, input: CreateImageJobInput) {
  const prompt = input.prompt.trim();
  if (prompt === '') throw badUserInput('prompt must not be empty', { field: 'prompt' });
  if ([...prompt].length > MAX_PROMPT) throw badUserInput(`prompt must be at most ${MAX_PROMPT} characters`, { field: 'prompt' });
  const negativePrompt = input.negativePrompt?.trim() || null;
  if (negativePrompt !== null && [...negativePrompt].length > MAX_NEGATIVE_PROMPT) {
    throw badUserInput(`negativePrompt must be at most ${MAX_NEGATIVE_PROMPT} characters`, { field: 'negativePrompt' });
  }
  const models = await ctx.models.listActive();
  const model = input.model == null ? models[0] : models.find((m) => m.id === input.model);
  if (!model) throw badUserInput(input.model == null ? 'No image model is available' : `Unknown image model ${input.model}`, { field: 'model' });
  const size = input.size ?? model.sizes[0];
  if (!size || !model.sizes.includes(size)) throw badUserInput(`size must be one of ${model.sizes.join(', ')} for ${model.id}`, { field: 'size' });
  const count = input.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > model.maxCount) throw badUserInput(`count must be from 1 to ${model.maxCount} for ${model.id}`, { field: 'count' });
  const seed = input.seed ?? null;
  if (seed !== null && (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)) throw badUserInput(`seed must be from 0 to ${MAX_SEED}`, { field: 'seed' });
  return { prompt, negativePrompt, model: model.id, size, count, seed };
}
