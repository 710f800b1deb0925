import type { RuntimeSettings } from '@firefly/platform-state';
import type { BillingConfig } from './config.ts';
import { createAccountIdCache, createCreditStore, type AccountIdCache } from './data/credit-store.ts';
import { createNotificationLog, type NotificationLog } from './data/notification-log.ts';
import { createOrderPaidNoticeStore } from './data/order-paid-notices.ts';
import { createUserSmsClient } from './data/user-sms-client.ts';
import { createOrderPaidNotices, type OrderPaidNotices } from './domain/order-paid-notices.ts';
import { createOrderStore, type OrderStore } from './data/order-store.ts';
import type { OrderSettings } from './domain/orders.ts';
import type { PaymentEvents } from './domain/payment-events.ts';
import type { PaymentProviders } from './domain/payment-ports.ts';
import { createPaymentProviders } from './providers/index.ts';
import { createPriceSource } from './data/prices.ts';
import type { CreditStore, PriceSource } from './domain/ports.ts';
import type { CreditSettings } from './domain/scope.ts';
import { createBillingMetrics, type BillingMetrics } from './metrics.ts';
import type { BillingDeps } from './server.ts';

/** Billing's process-wide services, built once per server and shared by every request and job. */
export interface BillingServices {
  store: CreditStore;
  /** Account ids by owner, shared by this store and every request's (credit-store.ts). */
  accountIds: AccountIdCache;
  prices: PriceSource;
  settings: CreditSettings;
  orders: OrderStore;
  /** The payment channels whose credentials are configured. */
  providers: PaymentProviders;
  orderSettings: OrderSettings;
  metrics: BillingMetrics;
  /** Listeners of order and refund changes (metrics; a paid order also kicks its SMS). */
  events: PaymentEvents;
  /** The record of every payment notification received. */
  notificationLog: NotificationLog;
  /** The payment-success SMS owed to buyers (kicked when an order is paid; retried by a job). */
  orderPaidNotices: OrderPaidNotices;
}

export function createBillingServices(config: BillingConfig, deps: BillingDeps, runtimeSettings: Pick<RuntimeSettings, 'get'>): BillingServices {
  const metrics = createBillingMetrics();
  const orderPaidNotices = createOrderPaidNotices({
    store: createOrderPaidNoticeStore(deps.db),
    port: deps.orderPaidSms ?? createUserSmsClient({ url: config.USER_SUBGRAPH_URL, secret: config.INTERNAL_TOKEN_SECRET }),
    logger: deps.logger,
    settings: { maxAttempts: config.ORDER_SMS_MAX_ATTEMPTS, retryBaseMs: config.ORDER_SMS_RETRY_SECONDS * 1_000, leaseMs: 60_000 },
    onOutcome: (outcome) => metrics.orderSms.inc({ outcome }),
  });
  const accountIds = createAccountIdCache();
  return {
    store: metrics.observeCreditStore(createCreditStore(deps.db, { accountIds })),
    accountIds,
    prices: createPriceSource(deps.db),
    // Sign-up grant and order TTL: a value set at run time (setSetting, shared through Redis), else the environment's.
    settings: {
      get signupGrantCredits() {
        return runtimeSettings.get('signupGrantCredits', config.SIGNUP_GRANT_CREDITS);
      },
      maxReservationTtlSeconds: config.RESERVATION_MAX_TTL_SECONDS,
    },
    orders: createOrderStore(deps.db),
    providers: createPaymentProviders(config),
    orderSettings: {
      get orderTtlSeconds() {
        return runtimeSettings.get('orderTtlSeconds', config.ORDER_TTL_SECONDS);
      },
      maxOpenPerUser: config.ORDER_MAX_OPEN_PER_USER,
    },
    metrics,
    // Metrics, and the buyer's SMS once the order is paid (kicked, never awaited: the payment does not wait for it).
    events: {
      ...metrics.events,
      orderPaid(order) {
        metrics.events.orderPaid(order);
        orderPaidNotices.kick(order.id);
      },
    },
    orderPaidNotices,
    notificationLog: createNotificationLog(deps.db),
  };
}
