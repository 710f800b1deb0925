import { readCatalogVersion, type Redis } from '@firefly/redis';
import type { ImageModelView } from '../domain/upsert-image-model.ts';

/** Longest a tenant's catalog is kept without a re-read, should a change fail to bump the version (Redis down then). */
const MAX_AGE_MS = 10_000;

export interface ImageCatalogCache {
  /** The tenant's active models: kept while the catalog version stands (and at most MAX_AGE_MS), else `read`. */
  listActive(tenantId: string, read: () => Promise<ImageModelView[]>): Promise<ImageModelView[]>;
}

/**
 * Each tenant's active image models, kept by the process while the catalog version (CATALOG_VERSION_KEY, bumped after
 * every committed catalog change, on any replica: upsertImageModel, setTenantImageModel) is the one it was read at —
 * one Redis GET per request instead of reading the models and the tenant's hidden ones (createImageJob validates
 * every job against them). The version is read before the rows, so rows older than a change are only ever kept under
 * a version from before that change's bump, which every request after the bump sees as stale. Redis unreachable:
 * the rows are read, not kept.
 */
export function createImageCatalogCache(redis: Redis, maxAgeMs = MAX_AGE_MS): ImageCatalogCache {
  const entries = new Map<string, { version: string; readAt: number; rows: Promise<ImageModelView[]> }>();
  return {
    async listActive(tenantId, read) {
      let version: string;
      try {
        version = await readCatalogVersion(redis);
      } catch {
        return read();
      }
      const kept = entries.get(tenantId);
      if (kept && kept.version === version && Date.now() - kept.readAt < maxAgeMs) return kept.rows;
      const entry = { version, readAt: Date.now(), rows: read() };
      entries.set(tenantId, entry);
      // A failed read is not kept.
      entry.rows.catch(() => {
        if (entries.get(tenantId) === entry) entries.delete(tenantId);
      });
      return entry.rows;
    },
  };
}
