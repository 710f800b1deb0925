import { isDatabaseUnavailableError } from '@firefly/db';
import { upstreamUnavailable } from '@firefly/errors';
import { readFileSync } from 'node:fs';
import type { BillingDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { BillingConfig } from './config.ts';
import { createBillingContext } from './context.ts';
import type { BillingSql } from './data/raw-sql.ts';
import { Counter, Gauge } from 'prom-client';
import { reconcileOrdersJob } from './jobs/reconcile-orders.ts';
import { sweepExpiredReservationsJob } from './jobs/sweep-expired-reservations.ts';
import { paymentNotificationRoutes } from './routes/payment-notifications.ts';
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
export async function buildBillingSubgraph(config: BillingConfig, deps: BillingDeps): Promise<SubgraphServer> {
  const services = createBillingServices(config, deps);
  const notifications = new Counter({
    name: 'billing_payment_notifications_total',
    help: 'Payment notifications by channel and outcome (credited, duplicate, closed_order, amount_mismatch, unknown_order, ignored, refused with a reason, error)',
    labelNames: ['channel', 'outcome', 'reason'] as const,
    registers: [],
  });
  const reconciliations = new Counter({
    name: 'billing_order_reconciliations_total',
    help: 'PENDING orders changed by the reconciliation job, by channel and outcome (credited = a lost notification recovered, closed = expired)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [],
  });
  const sweptReservations = new Counter({
    name: 'billing_reservations_expired_total',
    help: 'Credit holds released by the sweeper because they expired (their caller died or never settled)',
    registers: [],
  });
  const settle = { orders: services.orders, store: services.store, providers: services.providers, logger: deps.logger };
  const server = await createSubgraphServer({
    // MySQL unreachable (refused, timed out, no pooled connection in time): UPSTREAM_UNAVAILABLE, not INTERNAL.
    classifyError: (error) => (isDatabaseUnavailableError(error) ? upstreamUnavailable('The database is unavailable', { service: 'mysql' }) : undefined),
    name: 'billing',
    typeDefs,
    resolvers,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    logger: deps.logger,
    environment: config,
    createContext: (base) => createBillingContext(deps, services, base),
    rateLimits: { redis: deps.redis, per: 'caller', overrides: config.BILLING_RATE_LIMITS },
    readiness: [redisReadiness(deps.redis), mysqlReadiness(deps.db)],
    configureApp: paymentNotificationRoutes({ ...settle, notifications }),
    jobs: [
      reconcileOrdersJob({
        ...settle,
        everyMs: config.ORDER_RECONCILE_INTERVAL_SECONDS * 1_000,
        afterSeconds: config.ORDER_RECONCILE_AFTER_SECONDS,
        batchSize: config.ORDER_RECONCILE_BATCH_SIZE,
        onOutcome: (channel, outcome) => {
          if (outcome !== 'waiting') reconciliations.inc({ channel, outcome });
        },
      }),
      sweepExpiredReservationsJob({
        store: services.store,
        everyMs: config.RESERVATION_SWEEP_INTERVAL_SECONDS * 1_000,
        batchSize: config.RESERVATION_SWEEP_BATCH_SIZE,
        onReleased: (released) => sweptReservations.inc(released),
      }),
    ],
  });
  server.metrics.registry.registerMetric(notifications);
  server.metrics.registry.registerMetric(reconciliations);
  server.metrics.registry.registerMetric(sweptReservations);
  new Gauge({
    name: 'billing_orders',
    help: 'Orders by status (all tenants)',
    labelNames: ['status'] as const,
    registers: [server.metrics.registry],
    async collect() {
      const counts = await deps.db.order.groupBy({ by: ['status'], _count: { _all: true } }).catch(() => []);
      this.reset();
      for (const row of counts) this.set({ status: row.status }, row._count._all);
    },
  });
  return server;
}
