import { recordAudit, transact, type AuditActor, type ImageDb, type TenantScoped } from '@firefly/db';
import type { ImageModelView, NewImageModel } from '../domain/upsert-image-model.ts';

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
      return rows.map(toView);
    },
  };
}

function toView(row: { id: string; name: string; sizes: string; maxCount: number }): ImageModelView {
  return { id: row.id, name: row.name, sizes: row.sizes.split(',').map((s) => s.trim()).filter(Boolean), maxCount: row.maxCount };
}

/**
 * upsertImageModel's write: creates the model (last in the catalog's order, so it does not become the default) or
 * changes it, and appends the audit event in the same transaction.
 */
export function createImageModelWriter(db: ImageDb) {
  const select = { id: true, name: true, sizes: true, maxCount: true, active: true } as const;
  return {
    save(model: NewImageModel, by: AuditActor, extra: Record<string, unknown>): Promise<ImageModelView> {
      const { id, active, sizes, ...fields } = model;
      const data = { ...fields, sizes: sizes.join(',') };
      return transact(db, async (tx) => {
        const before = await tx.imageModel.findUnique({ where: { id }, select });
        let after;
        if (before) {
          after = await tx.imageModel.update({ where: { id }, data: { ...data, ...(active === undefined ? {} : { active }) }, select });
        } else {
          const last = await tx.imageModel.aggregate({ _max: { sortOrder: true } });
          after = await tx.imageModel.create({ data: { id, ...data, active: active ?? true, sortOrder: (last._max.sortOrder ?? 0) + 10 }, select });
        }
        await recordAudit(tx, { ...by, action: 'upsertImageModel', targetType: 'ImageModel', targetId: id, details: { before, after, ...extra } });
        return toView(after);
      });
    },
  };
}
