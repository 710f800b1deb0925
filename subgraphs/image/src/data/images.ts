import { recordAudit, transact, type AuditActor, type ImageDb, type TenantScoped } from '@firefly/db';
import type { TenantImageModelRow } from '../domain/tenant-image-models.ts';
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

/**
 * The image model catalog as one tenant sees it: the platform-wide active rows less the models the tenant has hidden
 * (TenantImageModel, read through the tenant-scoped client, in parallel with the models). createImageJob validates
 * against this list, so a hidden model is refused new jobs by the same check as a deactivated one.
 */
export function createImageModelRepository(db: ImageDb, tenantDb: TenantScoped<ImageDb>) {
  return {
    async listActive() {
      const [rows, hidden] = await Promise.all([
        db.imageModel.findMany({ where: { active: true }, orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] }),
        tenantDb.tenantImageModel.findMany({ where: { hidden: true }, select: { modelId: true } }),
      ]);
      const hiddenIds = new Set(hidden.map((row) => row.modelId));
      return rows.filter((row) => !hiddenIds.has(row.id)).map(toView);
    },
  };
}

/**
 * setTenantImageModel's write, by a platform admin for any tenant (the process-wide client): the override and its
 * audit event in one transaction. `null` when there is no such model.
 */
export function createTenantImageModelWriter(db: ImageDb) {
  return {
    set(override: { tenantId: string; modelId: string; hidden: boolean }, by: AuditActor): Promise<TenantImageModelRow | null> {
      const { tenantId, modelId, hidden } = override;
      return transact(db, async (tx) => {
        if (!(await tx.imageModel.findUnique({ where: { id: modelId }, select: { id: true } }))) return null;
        const key = { tenantId_modelId: { tenantId, modelId } };
        const before = await tx.tenantImageModel.findUnique({ where: key, select: { hidden: true } });
        const after = await tx.tenantImageModel.upsert({ where: key, create: { tenantId, modelId, hidden }, update: { hidden } });
        await recordAudit(tx, {
          ...by,
          action: 'setTenantImageModel',
          targetType: 'ImageModel',
          targetId: modelId,
          details: { tenantId, before: { hidden: before?.hidden ?? false }, after: { hidden } },
        });
        return after;
      });
    },
    /** The image models hidden from a tenant (tenantOverrides), by model id. */
    listHidden(tenantId: string): Promise<TenantImageModelRow[]> {
      return db.tenantImageModel.findMany({ where: { tenantId, hidden: true }, orderBy: { modelId: 'asc' } });
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
