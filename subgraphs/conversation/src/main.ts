import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { loadConversationConfig } from './config.ts';
import { buildConversationSubgraph } from './server.ts';

const config = loadConversationConfig();
const logger = createLogger({ service: 'subgraph-conversation', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const server = await buildConversationSubgraph({
  db,
  internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
  logger,
  exposeErrorDetails: config.NODE_ENV === 'development',
  readiness: [{ name: 'mysql', check: () => db.$queryRaw`SELECT 1` }],
  onStop: () => db.$disconnect(),
});
const url = await server.listen(config.CONVERSATION_SUBGRAPH_PORT, config.HOST);
logger.info({ url }, 'conversation subgraph ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
