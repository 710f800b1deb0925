import { createByIdLoader, createGroupLoader, createPageLoader, eachParent, oncePerRequest, type BaseContext, type PageArgs } from '@firefly/server-kit';
import { createImageModelRepository, createImageRepository } from './data/images.ts';
import { createImageJobRepository, type ImageJobStatus } from './data/jobs.ts';
import type { ImageDeps } from './server.ts';
import type { ImageServices } from './services.ts';

/** Fresh per request: repositories bound to the request's tenant, and fresh DataLoaders. */
export function createImageContext(deps: ImageDeps, services: ImageServices, base: BaseContext) {
  const jobs = createImageJobRepository(deps.db, base.tenantId);
  const images = createImageRepository(deps.db, base.tenantId);
  const modelRepository = createImageModelRepository(deps.db);
  return {
    ...base,
    services,
    jobs,
    images,
    // The catalog is read once per request, however many aliases ask for it.
    models: { ...modelRepository, listActive: oncePerRequest(modelRepository.listActive) },
    loaders: {
      job: createByIdLoader(jobs.findByIds),
      image: createByIdLoader(images.findByIds),
      imagesOfJob: createGroupLoader(images.findByJobIds, (row) => row.jobId),
      jobPages: createPageLoader(eachParent((userId, page, args: PageArgs & { status?: ImageJobStatus | null }) => jobs.listByUser(userId, page, args.status))),
    },
  };
}

export type ImageContext = ReturnType<typeof createImageContext>;
