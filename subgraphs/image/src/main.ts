import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { loadImageConfig } from './config.ts';
import { buildImageSubgraph } from './server.ts';

const config = loadImageConfig();
const logger = createLogger({ service: 'subgraph-image', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const server = await buildImageSubgraph({
  db,
  publicBaseUrl: config.IMAGE_PUBLIC_BASE_URL,
  internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
  logger,
  exposeErrorDetails: config.NODE_ENV === 'development',
  readiness: [{ name: 'mysql', check: () => db.$queryRaw`SELECT 1` }],
  onStop: () => db.$disconnect(),
});
const url = await server.listen(config.IMAGE_SUBGRAPH_PORT, config.HOST);
logger.info({ url }, 'image subgraph ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
