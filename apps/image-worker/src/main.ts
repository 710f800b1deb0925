import { createCreditsClient } from '@firefly/credits-client';
import { createDashScopeImageClient } from '@firefly/dashscope';
import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { createObjectStorage } from '@firefly/oss';
import { closeRedis, createRedis } from '@firefly/redis';
import { handleProcessSignals } from '@firefly/server-kit';
import { loadImageWorkerConfig } from './config.ts';
import { warmUpWorker } from './warm-up.ts';
import { buildImageWorker } from './worker.ts';

const config = loadImageWorkerConfig();
const logger = createLogger({ service: 'image-worker', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE, logger });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'image-worker', logger });
const credits = createCreditsClient({ url: config.BILLING_SUBGRAPH_URL, secret: config.INTERNAL_TOKEN_SECRET, service: 'image', timeoutMs: config.BILLING_TIMEOUT_MS, logger });
const dashscope = createDashScopeImageClient({ baseUrl: config.dashscope.baseUrl, apiKey: config.dashscope.apiKey, workspace: config.dashscope.workspace, timeoutMs: config.DASHSCOPE_TIMEOUT_MS });
const storage = createObjectStorage(config.oss);
// Before the BullMQ worker exists (it takes jobs as soon as it is built): the pool and the job statements, warm.
await warmUpWorker(db, { poolSize: config.DATABASE_POOL_SIZE, logger });
const worker = buildImageWorker(config, { db, redis, logger, credits, dashscope, storage });
const url = await worker.listen(config.IMAGE_WORKER_PORT, config.HOST);
logger.info({ url, concurrency: config.IMAGE_WORKER_CONCURRENCY, dashscope: config.dashscope.mode, oss: config.oss.mode }, 'image worker ready');
handleProcessSignals(
  {
    async stop() {
      await worker.stop();
      await db.$disconnect();
      await closeRedis(redis);
    },
  },
  logger,
  config.SHUTDOWN_GRACE_SECONDS,
);
