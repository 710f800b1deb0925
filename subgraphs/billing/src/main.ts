import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { serveSubgraph } from '@firefly/server-kit';
import { loadBillingConfig } from './config.ts';
import { buildBillingSubgraph } from './server.ts';
import { warmUpBilling } from './warm-up.ts';

const config = loadBillingConfig();
const logger = createLogger({ service: 'subgraph-billing', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE, logger });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'subgraph-billing', logger });
// Before listening, so that neither /readyz nor the first requests see a cold pool (warm-up.ts).
await warmUpBilling(db, { poolSize: config.DATABASE_POOL_SIZE, logger });
const server = await buildBillingSubgraph(config, { db, redis, logger });
await serveSubgraph(server, { name: 'billing', port: config.BILLING_SUBGRAPH_PORT, config, logger, release: [() => db.$disconnect(), () => closeRedis(redis)] });
