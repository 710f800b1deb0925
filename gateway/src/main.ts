import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { createSessionStore } from '@firefly/auth/sessions';
import { closeRedis, createRedis } from '@firefly/redis';
import { createTokenAuthenticator, loadVerificationKeys } from './modules/auth.ts';
import { loadGatewayConfig } from './config.ts';
import { createGatewayServer } from './server.ts';

const config = loadGatewayConfig();
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const jwks = await loadVerificationKeys(config, logger);
// Every authenticated request checks its session in Redis, so a revocation applies on the very next request.
const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'gateway', logger });
const authenticate = createTokenAuthenticator(jwks, config, { sessions: createSessionStore(redis) });
const server = await createGatewayServer({ config, logger, authenticate, jwks, redis, onStop: () => closeRedis(redis) });
const url = await server.listen(config.GATEWAY_PORT, config.HOST);
const ops = server.opsOrigin();
logger.info({ url, ...(ops ? { ops } : {}) }, 'gateway ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
