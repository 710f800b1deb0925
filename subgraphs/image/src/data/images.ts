import type { ImageDb, TenantScoped } from '@firefly/db';

const select = { id: true, tenantId: true, userId: true, jobId: true, storageKey: true, width: true, height: true, contentType: true, createdAt: true } as const;

export type ImageRow = Awaited<ReturnType<ReturnType<typeof createImageRepository>['findByIds']>>[number];

/** Stored images of one tenant; deleted ones are invisible. */
export function createImageRepository(db: TenantScoped<ImageDb>, tenantId: string) {
  return {
    findByIds(ids: readonly string[]) {
      return db.image.findMany({ where: { tenantId, id: { in: [...ids] }, deletedAt: null }, select });
    },
    findByJobIds(jobIds: readonly string[]) {
      return db.image.findMany({ where: { tenantId, jobId: { in: [...jobIds] }, deletedAt: null }, orderBy: { createdAt: 'asc' }, select });
    },
    /** Marks the image deleted (its object is removed from storage by the caller). */
    async markDeleted(id: string) {
      const { count } = await db.image.updateMany({ where: { tenantId, id, deletedAt: null }, data: { deletedAt: new Date() } });
      return count === 1;
    },
  };
}

/** The platform-wide image model catalog. */
export function createImageModelRepository(db: ImageDb) {
  return {
    async listActive() {
      const rows = await db.imageModel.findMany({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] });
      return rows.map((row) => ({ id: row.id, name: row.name, sizes: row.sizes.split(',').map((s) => s.trim()).filter(Boolean), maxCount: row.maxCount }));
    },
  };
}
