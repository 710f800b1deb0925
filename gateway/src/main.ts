import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { publicJwks } from '@firefly/auth';
import { createTokenAuthenticator, loadSigningKeys } from './auth.ts';
import { loadGatewayConfig } from './config.ts';
import { createGatewayServer } from './server.ts';

const config = loadGatewayConfig();
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const keys = await loadSigningKeys(config, logger);
const server = await createGatewayServer({ config, logger, authenticate: createTokenAuthenticator(keys, config), jwks: publicJwks(keys) });
const url = await server.listen(config.GATEWAY_PORT, config.HOST);
logger.info({ url }, 'gateway ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
