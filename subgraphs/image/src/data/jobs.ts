import type { ImageDb, TenantScoped } from '@firefly/db';
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
