import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { serveSubgraph } from '@firefly/server-kit';
import { loadImageConfig } from './config.ts';
import { buildImageSubgraph } from './server.ts';

const config = loadImageConfig();
const logger = createLogger({ service: 'subgraph-image', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'subgraph-image', logger });
const server = await buildImageSubgraph(config, { db, redis, logger });
await serveSubgraph(server, { name: 'image', port: config.IMAGE_SUBGRAPH_PORT, config, logger, release: [() => db.$disconnect(), () => closeRedis(redis)] });
