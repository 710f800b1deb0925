import { isDatabaseUnavailableError } from '@firefly/db';
import { upstreamUnavailable } from '@firefly/errors';
import { readFileSync } from 'node:fs';
import { Gauge, Histogram } from 'prom-client';
import type { CreditsClient } from '@firefly/credits-client';
import type { Db, ImageDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { followSettings } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { ImageConfig } from './config.ts';
import { createImageContext } from './context.ts';
import { resolvers } from './resolvers/index.ts';
import { createImageServices } from './services.ts';
import { sweepLostJobsJob } from './jobs/sweep-lost-jobs.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadImageConfig, type ImageConfig } from './config.ts';
export { imageHoldKeyFor, imageJobIdForKey } from './domain/create-image-job.ts';
export { ORPHANED_HOLD_GRACE_MS, sweepOrphanedHolds } from './domain/orphaned-holds.ts';

/** What the process hands the image subgraph; it releases them itself after stop(). */
export interface ImageDeps {
  db: ImageDb & Pick<Db, '$queryRaw'>;
  /** Command connection with REDIS_KEY_PREFIX: `@rateLimit` counters and job progress streams (the queue opens its own). */
  redis: Redis;
  logger: Logger;
  /** Billing's credit API (the credits client on BILLING_SUBGRAPH_URL with a service credential). */
  credits: CreditsClient;
}

/** Builds the image subgraph without listening (tests drive it; src/main.ts runs it). */
export async function buildImageSubgraph(config: ImageConfig, deps: ImageDeps): Promise<SubgraphServer> {
  // System settings set at run time (maxActiveImageJobsPerUser), followed through Redis (@firefly/platform-state).
  const runtimeSettings = followSettings({ redis: deps.redis, logger: deps.logger });
  runtimeSettings.follower.start().catch((error: unknown) => deps.logger.error({ err: error }, 'following the system settings failed'));
  const services = createImageServices(config, deps, runtimeSettings);
  const server = await createSubgraphServer({
    // MySQL unreachable (refused, timed out, no pooled connection in time): UPSTREAM_UNAVAILABLE, not INTERNAL.
    classifyError: (error) => (isDatabaseUnavailableError(error) ? upstreamUnavailable('The database is unavailable', { service: 'mysql' }) : undefined),
    name: 'image',
    typeDefs,
    resolvers,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    logger: deps.logger,
    environment: config,
    createContext: (base) => createImageContext(deps, services, base),
    rateLimits: { redis: deps.redis, per: 'caller', overrides: config.IMAGE_RATE_LIMITS },
    readiness: [redisReadiness(deps.redis), mysqlReadiness(deps.db)],
    jobs: [sweepLostJobsJob({ db: deps.db, services, logger: deps.logger, everyMs: config.IMAGE_JOB_SWEEP_INTERVAL_SECONDS * 1000 })],
    onStop: async () => {
      await Promise.all([services.queue.close(), services.progress.close(), runtimeSettings.follower.stop()]);
    },
  });
  new Gauge({
    name: 'image_job_subscriptions',
    help: 'Open imageJobUpdated subscriptions (iterators not yet returned) in this process',
    registers: [server.metrics.registry],
    collect() {
      this.set(services.watch.active);
    },
  });
  const eventDelay = new Histogram({
    name: 'image_job_event_delay_seconds',
    help: 'imageJobUpdated: time from a job change (its progress stream stamp, written after the row) to its event leaving this subgraph (clocks of the writer and this process)',
    buckets: [0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [server.metrics.registry],
  });
  services.watch.observeDelay = (seconds) => eventDelay.observe(Math.max(0, seconds));
  return server;
}
