import { createDb } from '@firefly/db';
import { createLogger } from '@firefly/logger';
import { handleProcessSignals } from '@firefly/server-kit';
import { loadBillingConfig } from './config.ts';
import { createCreditStore } from './data/credit-store.ts';
import { startReservationSweeper, sweepExpiredReservations } from './jobs/sweep-expired-reservations.ts';
import { buildBillingSubgraph } from './server.ts';

const config = loadBillingConfig();
const logger = createLogger({ service: 'subgraph-billing', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: config.DATABASE_POOL_SIZE });
const sweeperLogger = logger.child({ job: 'reservation-sweeper' });
const store = createCreditStore(db);
const sweeper = startReservationSweeper({
  intervalMs: config.RESERVATION_SWEEP_INTERVAL_SECONDS * 1_000,
  sweep: () => sweepExpiredReservations({ store, logger: sweeperLogger, batchSize: config.RESERVATION_SWEEP_BATCH_SIZE }),
  logger: sweeperLogger,
});
const server = await buildBillingSubgraph({
  db,
  internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
  logger,
  exposeErrorDetails: config.NODE_ENV === 'development',
  readiness: [{ name: 'mysql', check: () => db.$queryRaw`SELECT 1` }],
  signupGrantCredits: config.SIGNUP_GRANT_CREDITS,
  maxReservationTtlSeconds: config.RESERVATION_MAX_TTL_SECONDS,
  onStop: async () => {
    await sweeper.stop();
    await db.$disconnect();
  },
});
const url = await server.listen(config.BILLING_SUBGRAPH_PORT, config.HOST);
logger.info({ url }, 'billing subgraph ready');
handleProcessSignals(server, logger, config.SHUTDOWN_GRACE_SECONDS);
