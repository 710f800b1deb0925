import { isDatabaseUnavailableError } from '@firefly/db';
import { upstreamUnavailable } from '@firefly/errors';
import { readFileSync } from 'node:fs';
import type { BillingDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { followSettings } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { BillingConfig } from './config.ts';
import { createBillingContext } from './context.ts';
import type { BillingSql } from './data/raw-sql.ts';
import type { OrderPaidSmsPort } from './domain/order-paid-notices.ts';
import { deliverOrderPaidNoticesJob } from './jobs/deliver-order-paid-notices.ts';
import { prunePaymentNotificationsJob } from './jobs/prune-payment-notifications.ts';
import { reconcileOrdersJob } from './jobs/reconcile-orders.ts';
import { sweepExpiredReservationsJob } from './jobs/sweep-expired-reservations.ts';
import { paymentNotificationRoutes } from './routes/payment-notifications.ts';
import { resolvers } from './resolvers/index.ts';
import { createBillingServices } from './services.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadBillingConfig, type BillingConfig } from './config.ts';
export type { BillingSql };
export { createUserSmsClient } from './data/user-sms-client.ts';

/** What the process hands the billing subgraph; it releases them itself after stop(). */
export interface BillingDeps {
  /** The process's Prisma client (`createDb()`): billing's model delegates plus raw SQL (data/raw-sql.ts). */
  db: BillingDb & BillingSql;
  /** Counters of the `@rateLimit` fields (shared by every replica). */
  redis: Redis;
  logger: Logger;
  /** Where a paid order's SMS is asked for. Default: the user subgraph at USER_SUBGRAPH_URL (service credential). */
  orderPaidSms?: OrderPaidSmsPort;
}

/**
 * Builds the billing subgraph without listening (tests drive it; src/main.ts runs it): products, orders,
 * User.creditBalance / ledger / orders, the ADMIN `adjustCredits`, the internal credit API (`reserveCredits`,
 * `settleReservation`, `releaseReservation`, `grantSignupCredits`, `chatCost`, `imageCost`) that only a service
 * credential may call, the expiry sweep of reservations, the delivery of the buyers' payment-success SMS, and the
 * deletion of payment notification records past their retention.
 */
export async function buildBillingSubgraph(config: BillingConfig, deps: BillingDeps): Promise<SubgraphServer> {
  // System settings set at run time (sign-up grant, order TTL), followed through Redis (@firefly/platform-state).
  const runtimeSettings = followSettings({ redis: deps.redis, logger: deps.logger });
  runtimeSettings.follower.start().catch((error: unknown) => deps.logger.error({ err: error }, 'following the system settings failed'));
  const services = createBillingServices(config, deps, runtimeSettings);
  const { notifications, reconciliations, sweptReservations } = services.metrics;
  const settle = { orders: services.orders, store: services.store, providers: services.providers, logger: deps.logger, events: services.events };
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
    onStop: () => runtimeSettings.follower.stop(),
    configureApp: paymentNotificationRoutes({ ...settle, notifications, log: services.notificationLog }),
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
      deliverOrderPaidNoticesJob({ notices: services.orderPaidNotices, everyMs: config.ORDER_SMS_INTERVAL_SECONDS * 1_000, batchSize: 50 }),
      sweepExpiredReservationsJob({
        store: services.store,
        everyMs: config.RESERVATION_SWEEP_INTERVAL_SECONDS * 1_000,
        batchSize: config.RESERVATION_SWEEP_BATCH_SIZE,
        onReleased: (released) => sweptReservations.inc(released),
      }),
      ...(config.PAYMENT_NOTIFICATION_RETENTION_DAYS > 0
        ? [
            prunePaymentNotificationsJob({
              db: deps.db,
              retentionDays: config.PAYMENT_NOTIFICATION_RETENTION_DAYS,
              everyMs: config.PAYMENT_NOTIFICATION_PRUNE_INTERVAL_SECONDS * 1_000,
            }),
          ]
        : []),
    ],
  });
  services.metrics.register(server.metrics.registry, deps.db);
  return server;
}
