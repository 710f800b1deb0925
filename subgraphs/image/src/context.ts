import { createByIdLoader, createGroupLoader, createPageLoader, eachParent, type BaseContext, type PageArgs } from '@firefly/server-kit';
import { createImageModelRepository, createImageRepository } from './data/images.ts';
import { createImageJobRepository, type ImageJobStatus } from './data/jobs.ts';
import type { ImageDeps } from './server.ts';
import type { ImageServices } from './services.ts';

/** Fresh per request: repositories bound to the request's tenant, and fresh DataLoaders. */
export function createImageContext(deps: ImageDeps, services: ImageServices, base: BaseContext) {
  const jobs = createImageJobRepository(deps.db, base.tenantId);
  const images = createImageRepository(deps.db, base.tenantId);
  return {
    ...base,
    services,
    jobs,
    images,
    models: createImageModelRepository(deps.db),
    loaders: {
      job: createByIdLoader(jobs.findByIds),
      image: createByIdLoader(images.findByIds),
      imagesOfJob: createGroupLoader(images.findByJobIds, (row) => row.jobId),
      jobPages: createPageLoader(eachParent((userId, page, args: PageArgs & { status?: ImageJobStatus | null }) => jobs.listByUser(userId, page, args.status))),
    },
  };
}

export type ImageContext = ReturnType<typeof createImageContext>;
