import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { handleProcessSignals } from '@firefly/server-kit';
import { loadConversationConfig } from './config.ts';
import { buildConversationSubgraph } from './server.ts';

const config = loadConversationConfig();
const logger = createLogger({ service: 'subgraph-conversation', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'subgraph-conversation', logger });
const server = await buildConversationSubgraph({
  db,
  redis,
  config,
  internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
  logger,
  exposeErrorDetails: config.NODE_ENV === 'development',
  readiness: [{ name: 'mysql', check: () => db.$queryRaw`SELECT 1` }],
  // Leave a little of the grace period for closing sockets after the generations are drained.
  drainTimeoutMs: Math.max(1_000, (config.SHUTDOWN_GRACE_SECONDS - 2) * 1_000),
  onStop: async () => {
    await db.$disconnect();
    await closeRedis(redis);
  },
});
const url = await server.listen(config.CONVERSATION_SUBGRAPH_PORT, config.HOST);
logger.info({ url, dashscope: config.dashscope.mode }, 'conversation subgraph ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
