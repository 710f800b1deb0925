/**
 * Process entry of the probe subgraph (tests/src/subscription-probe.ts), so tests can kill it like a real one.
 * Env: PROBE_PORT (0 = any free port), INTERNAL_TOKEN_SECRET, LOG_LEVEL. Logs `{ url, msg: "probe subgraph ready" }`.
 */
import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { buildProbeSubgraph } from './subscription-probe.ts';

const logger = createLogger({ service: 'subgraph-probe', level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'info' });
const secret = process.env.INTERNAL_TOKEN_SECRET;
if (!secret) throw new Error('INTERNAL_TOKEN_SECRET is required');
const { server } = await buildProbeSubgraph({ internalTokenSecret: secret, logger });
const url = await server.listen(Number(process.env.PROBE_PORT ?? 0));
logger.info({ url }, 'probe subgraph ready');
handleProcessSignals(server, logger, 5);
