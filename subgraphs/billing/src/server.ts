import { readFileSync } from 'node:fs';
import type { BillingDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { BillingConfig } from './config.ts';
import { createBillingContext } from './context.ts';
import type { BillingSql } from './data/raw-sql.ts';
import { sweepExpiredReservationsJob } from './jobs/sweep-expired-reservations.ts';
import { resolvers } from './resolvers/index.ts';
import { createBillingServices } from './services.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadBillingConfig, type BillingConfig } from './config.ts';
export type { BillingSql };

/** What the process hands the billing subgraph; it releases them itself after stop(). */
export interface BillingDeps {
  /** The process's Prisma client (`createDb()`): billing's model delegates plus `$queryRaw` for per-user pages. */
  db: BillingDb & BillingSql;
  /** Counters of the `@rateLimit` fields (shared by every replica). */
  redis: Redis;
  logger: Logger;
}

/**
 * Builds the billing subgraph without listening (tests drive it; src/main.ts runs it): products, orders,
 * User.creditBalance / ledger / orders, the ADMIN `adjustCredits`, the internal credit API (`reserveCredits`,
 * `settleReservation`, `releaseReservation`, `grantSignupCredits`, `chatCost`, `imageCost`) that only a service
 * credential may call, and the expiry sweep of reservations.
 */
export function buildBillingSubgraph(config: BillingConfig, deps: BillingDeps): Promise<SubgraphServer> {
  const services = createBillingServices(config, deps);
  return createSubgraphServer({
    name: 'billing',
    typeDefs,
    resolvers,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    logger: deps.logger,
    exposeErrorDetails: config.NODE_ENV === 'development',
    createContext: (base) => createBillingContext(deps, services, base),
    rateLimits: { redis: deps.redis, per: 'caller', overrides: config.BILLING_RATE_LIMITS },
    readiness: [redisReadiness(deps.redis), mysqlReadiness(deps.db)],
    jobs: [
      sweepExpiredReservationsJob({
        store: services.store,
        everyMs: config.RESERVATION_SWEEP_INTERVAL_SECONDS * 1_000,
        batchSize: config.RESERVATION_SWEEP_BATCH_SIZE,
      }),
    ],
  });
}
