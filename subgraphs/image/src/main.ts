import { createCreditsClient } from '@firefly/credits-client';
import { createDb, openPoolAtStart } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { serveSubgraph } from '@firefly/server-kit';
import { loadImageConfig } from './config.ts';
import { buildImageSubgraph } from './server.ts';

const config = loadImageConfig();
const logger = createLogger({ service: 'subgraph-image', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE, logger });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'subgraph-image', logger });
const credits = createCreditsClient({ url: config.BILLING_SUBGRAPH_URL, secret: config.INTERNAL_TOKEN_SECRET, service: 'image', timeoutMs: config.BILLING_TIMEOUT_MS, logger });
// Before listening: the first requests do not wait for connections being opened one by one (@firefly/db warm-up.ts).
await openPoolAtStart(db, config.DATABASE_POOL_SIZE, logger);
const server = await buildImageSubgraph(config, { db, redis, logger, credits });
await serveSubgraph(server, {
  name: 'image',
  port: config.IMAGE_SUBGRAPH_PORT,
  config,
  logger,
  details: { oss: config.oss.mode },
  release: [() => db.$disconnect(), () => closeRedis(redis)],
});
