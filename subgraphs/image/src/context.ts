import DataLoader from 'dataloader';
import type { ImageDb } from '@firefly/db';
import { createByIdLoader, createGroupLoader, parsePage, toConnection, type BaseContext } from '@firefly/server-kit';
import { createImageModelRepository, createImageRepository } from './data/images.ts';
import { createImageJobRepository, type ImageJobRow, type ImageJobStatus } from './data/jobs.ts';

export interface ImageDeps {
  db: ImageDb;
  /** Base URL under which stored images are served. */
  publicBaseUrl: string;
}

interface JobPageKey {
  userId: string;
  first?: number | null;
  after?: string | null;
  status?: ImageJobStatus | null;
}

export function createImageContext(deps: ImageDeps, base: BaseContext) {
  const jobs = createImageJobRepository(deps.db, base.tenantId);
  const images = createImageRepository(deps.db, base.tenantId);
  return {
    ...base,
    publicBaseUrl: deps.publicBaseUrl,
    jobs,
    images,
    models: createImageModelRepository(deps.db),
    loaders: {
      job: createByIdLoader(jobs.findByIds),
      image: createByIdLoader(images.findByIds),
      imagesOfJob: createGroupLoader(images.findByJobIds, (row) => row.jobId),
      jobsOfUser: new DataLoader<JobPageKey, ReturnType<typeof toConnection<ImageJobRow>>, string>(
        (keys) =>
          Promise.all(
            keys.map(async (key) => {
              const page = parsePage(key);
              return toConnection(await jobs.listByUser(key.userId, page, key.status), page.take);
            }),
          ),
        { cacheKeyFn: (key) => `${key.userId}|${key.first ?? ''}|${key.after ?? ''}|${key.status ?? ''}` },
      ),
    },
  };
}

export type ImageContext = ReturnType<typeof createImageContext>;
