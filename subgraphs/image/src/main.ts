import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { serveSubgraph } from '@firefly/server-kit';
import { loadImageConfig } from './config.ts';
import { buildImageSubgraph } from './server.ts';

const config = loadImageConfig();
const logger = createLogger({ service: 'subgraph-image', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const server = await buildImageSubgraph(config, { db, logger });
await serveSubgraph(server, { name: 'image', port: config.IMAGE_SUBGRAPH_PORT, config, logger, release: [() => db.$disconnect()] });
