import { isUniqueConstraintError, type ImageDb, type TenantScoped } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';

const select = {
  id: true,
  tenantId: true,
  userId: true,
  prompt: true,
  negativePrompt: true,
  model: true,
  size: true,
  count: true,
  status: true,
  progress: true,
  error: true,
  errorCode: true,
  errorService: true,
  reservationId: true,
  creditsCharged: true,
  createdAt: true,
  finishedAt: true,
} as const;

export type ImageJobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
export type ImageJobRow = Awaited<ReturnType<ReturnType<typeof createImageJobRepository>['findByIds']>>[number];

export function createImageJobRepository(db: TenantScoped<ImageDb>, tenantId: string) {
  return {
    findByIds(ids: readonly string[]) {
      return db.imageJob.findMany({ where: { tenantId, id: { in: [...ids] } }, select });
    },
    findByIdempotencyKey(userId: string, idempotencyKey: string) {
      return db.imageJob.findUnique({ where: { tenantId_userId_idempotencyKey: { tenantId, userId, idempotencyKey } }, select });
    },
    /** Jobs of a user still QUEUED or RUNNING. */
    countActive(userId: string) {
      return db.imageJob.count({ where: { tenantId, userId, status: { in: ['QUEUED', 'RUNNING'] } } });
    },
    /** Inserts a QUEUED job; null when the id or the user's idempotency key is taken (a concurrent duplicate won). */
    async create(job: {
      id: string;
      userId: string;
      prompt: string;
      negativePrompt: string | null;
      model: string;
      size: string;
      count: number;
      seed: number | null;
      reservationId: string;
      /** Credits held (count × creditsPerImage). */
      creditsHeld: number;
      /** The price per image the credits were held at; null: the worker asks billing at settlement. */
      creditsPerImage: number | null;
      idempotencyKey: string | null;
      referenceImageKey: string | null;
      /** 0..1 (DashScope's ref_strength). */
      referenceStrength: number | null;
      /** DashScope's ref_mode: repaint | refonly. */
      referenceMode: string | null;
    }) {
      // One INSERT: create() with a select would wrap it in a transaction with a SELECT of the row just written. The
      // row handed back is the one written (createdAt is the client's clock either way: Prisma's now() default).
      const stored: ImageJobRow = {
        id: job.id,
        tenantId,
        userId: job.userId,
        prompt: job.prompt,
        negativePrompt: job.negativePrompt,
        model: job.model,
        size: job.size,
        count: job.count,
        status: 'QUEUED',
        progress: 0,
        error: null,
        errorCode: null,
        errorService: null,
        reservationId: job.reservationId,
        creditsCharged: null,
        createdAt: new Date(),
        finishedAt: null,
      };
      try {
        await db.imageJob.createMany({ data: [{ ...job, tenantId, status: 'QUEUED', progress: 0, createdAt: stored.createdAt }] });
        return stored;
      } catch (error) {
        if (isUniqueConstraintError(error)) return null;
        throw error;
      }
    },
    /** QUEUED or RUNNING → CANCELED; false when the job already ended (or a worker finished it first). */
    async cancel(id: string) {
      const { count } = await db.imageJob.updateMany({ where: { tenantId, id, status: { in: ['QUEUED', 'RUNNING'] } }, data: { status: 'CANCELED', finishedAt: new Date() } });
      return count === 1;
    },
    async recordCharge(id: string, credits: number) {
      await db.imageJob.updateMany({ where: { tenantId, id, creditsCharged: null }, data: { creditsCharged: credits } });
    },
    /** A user's jobs, newest first, optionally of one status. */
    listByUser(userId: string, page: Page, status?: ImageJobStatus | null) {
      return db.imageJob.findMany({
        where: { tenantId, userId, ...(status ? { status } : {}), ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select,
      });
    },
  };
}
