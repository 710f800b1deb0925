import { DEFAULT_TENANT_ID, scopeToTenant } from '@firefly/db';
import { catalogChanged } from '@firefly/redis';
import { createByIdLoader, createGroupLoader, createPageLoader, eachParent, oncePerRequest, type BaseContext, type PageArgs } from '@firefly/server-kit';
import { createImageModelRepository, createImageModelWriter, createImageRepository, createTenantImageModelWriter } from './data/images.ts';
import { createImageJobRepository, type ImageJobStatus } from './data/jobs.ts';
import type { TenantImageModelAdmin } from './domain/tenant-image-models.ts';
import type { ImageCatalogAdmin } from './domain/upsert-image-model.ts';
import type { ImageDeps } from './server.ts';
import type { ImageServices } from './services.ts';

/**
 * Fresh per request: repositories over a client scoped to the request's tenant (scopeToTenant: every model query
 * is filtered by, and every write stamped with, that tenant), and fresh DataLoaders.
 */
export function createImageContext(deps: ImageDeps, services: ImageServices, base: BaseContext) {
  const db = scopeToTenant(deps.db, base.tenantId);
  const jobs = createImageJobRepository(db, base.tenantId);
  const images = createImageRepository(db, base.tenantId);
  const modelRepository = createImageModelRepository(deps.db, db);
  const catalogAdmin: ImageCatalogAdmin = {
    platformTenantId: DEFAULT_TENANT_ID,
    async setPrice(modelId, perImage) {
      await services.credits.setImagePrice({ tenantId: base.tenantId, requestId: base.requestId, modelId, perImage });
    },
    save: createImageModelWriter(deps.db).save,
    catalogChanged: () => catalogChanged(deps.redis, base.logger),
    logger: base.logger,
  };
  const tenantCatalogAdmin: TenantImageModelAdmin = {
    platformTenantId: DEFAULT_TENANT_ID,
    ...createTenantImageModelWriter(deps.db),
    catalogChanged: () => catalogChanged(deps.redis, base.logger),
    logger: base.logger,
  };
  return {
    ...base,
    services,
    catalogAdmin,
    tenantCatalogAdmin,
    jobs,
    images,
    // The catalog is read once per request, however many aliases ask for it, and kept while its version stands.
    models: { ...modelRepository, listActive: oncePerRequest(() => services.catalog.listActive(base.tenantId, modelRepository.listActive)) },
    loaders: createLoaders(jobs, images),
  };
}

function createLoaders(jobs: ReturnType<typeof createImageJobRepository>, images: ReturnType<typeof createImageRepository>) {
  return {
    job: createByIdLoader(jobs.findByIds),
    image: createByIdLoader(images.findByIds),
    imagesOfJob: createGroupLoader(images.findByJobIds, (row) => row.jobId),
    jobPages: createPageLoader(eachParent((userId, page, args: PageArgs & { status?: ImageJobStatus | null }) => jobs.listByUser(userId, page, args.status))),
  };
}

/**
 * Fresh DataLoaders for one subscription event: a subscription keeps its context for its whole life, and loaders
 * cache what they read, so each event's fields (the job's images) would otherwise be those of the first event.
 */
export function renewLoaders(ctx: ImageContext): void {
  ctx.loaders = createLoaders(ctx.jobs, ctx.images);
}

export type ImageContext = ReturnType<typeof createImageContext>;
