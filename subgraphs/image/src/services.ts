import { randomUUID } from 'node:crypto';
import type { CreditsClient } from '@firefly/credits-client';
import { createImageQueue, progressReaderControlKey, type ImageQueue } from '@firefly/image-jobs';
import { createObjectStorage, type ObjectStorage } from '@firefly/oss';
import type { RuntimeSettings } from '@firefly/platform-state';
import { createSharedStreamReader, type Redis, type SharedStreamReader } from '@firefly/redis';
import type { ImageConfig } from './config.ts';
import { createImageCatalogCache, type ImageCatalogCache } from './data/catalog-cache.ts';
import type { ImageDeps } from './server.ts';

/** The image subgraph's process-wide services, built once per server and shared by every request. */
export interface ImageServices {
  /** The images bucket (signed URLs, uploads, deletions). */
  storage: ObjectStorage;
  uploads: { maxBytes: number; ttlSeconds: number };
  /** Each tenant's active image models, kept while the catalog version stands. */
  catalog: ImageCatalogCache;
  /** Image models that take a reference image. */
  referenceModels: ReadonlySet<string>;
  /** The queue image workers take jobs from. */
  queue: ImageQueue;
  credits: CreditsClient;
  /** Command connection (progress streams). */
  redis: Redis;
  /** `maxActivePerUser` is read at each use: the run-time setting maxActiveImageJobsPerUser, else the environment's. */
  jobs: { holdSeconds: number; readonly maxActivePerUser: number };
  /** The process's one reader of job progress streams (imageJobUpdated), and how often a quiet job is re-read. */
  progress: SharedStreamReader;
  /**
   * `observeDelay`: seconds from a change's stream stamp (the writer's clock, after the row was written) to its
   * event leaving the iterator — the subgraph's share of the state change → subscriber latency.
   */
  watch: { recheckMs: number; active: number; observeDelay: (seconds: number) => void };
}

export function createImageServices(config: ImageConfig, deps: ImageDeps, runtimeSettings: Pick<RuntimeSettings, 'get'>): ImageServices {
  return {
    storage: createObjectStorage(config.oss),
    uploads: { maxBytes: config.UPLOAD_MAX_BYTES, ttlSeconds: config.UPLOAD_URL_TTL_SECONDS },
    referenceModels: config.IMAGE_REFERENCE_MODELS,
    catalog: createImageCatalogCache(deps.redis),
    queue: createImageQueue({
      redisUrl: config.REDIS_URL,
      keyPrefix: config.REDIS_KEY_PREFIX,
      logger: deps.logger,
      attempts: config.IMAGE_JOB_ATTEMPTS,
      backoffMs: config.IMAGE_JOB_BACKOFF_MS,
    }),
    credits: deps.credits,
    redis: deps.redis,
    jobs: {
      holdSeconds: config.IMAGE_JOB_HOLD_SECONDS,
      // A value set at run time (setSetting, shared through Redis), else the environment's.
      get maxActivePerUser() {
        return runtimeSettings.get('maxActiveImageJobsPerUser', config.MAX_ACTIVE_IMAGE_JOBS_PER_USER);
      },
    },
    progress: createSharedStreamReader({
      redis: deps.redis,
      controlKey: progressReaderControlKey(randomUUID()),
      connectionName: 'subgraph-image-progress-reader',
      logger: deps.logger.child({ component: 'progress-reader' }),
    }),
    watch: { recheckMs: config.IMAGE_JOB_RECHECK_MS, active: 0, observeDelay: () => undefined },
  };
}
