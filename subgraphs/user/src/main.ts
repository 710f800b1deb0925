import { resolveSigningKeys } from '@firefly/auth';
import { createCreditsClient } from '@firefly/credits-client';
import { createDb, openPoolAtStart } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { serveSubgraph } from '@firefly/server-kit';
import { loadUserConfig } from './config.ts';
import { buildUserSubgraph } from './server.ts';

const config = loadUserConfig();
const logger = createLogger({ service: 'subgraph-user', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE, logger });
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'subgraph-user', logger });
const signingKeys = await resolveSigningKeys(config.ACCESS_TOKEN_KEYS, () =>
  logger.warn('ACCESS_TOKEN_KEYS is not set: using an ephemeral development key (the gateway will not accept its tokens)'),
);
const signupGrant = createCreditsClient({ url: config.BILLING_SUBGRAPH_URL, secret: config.INTERNAL_TOKEN_SECRET, service: 'user', logger });
// Before listening: the first requests do not wait for connections being opened one by one (@firefly/db warm-up.ts).
await openPoolAtStart(db, config.DATABASE_POOL_SIZE, logger);
const server = await buildUserSubgraph(config, { db, redis, logger, signingKeys, signupGrant });
await serveSubgraph(server, {
  name: 'user',
  port: config.USER_SUBGRAPH_PORT,
  config,
  logger,
  details: { sms: config.SMS_PROVIDER },
  release: [() => closeRedis(redis), () => db.$disconnect()],
});
