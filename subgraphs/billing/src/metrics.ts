import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { BillingDb } from '@firefly/db';
import type { PaymentEvents } from './domain/payment-events.ts';
import type { CreditStore } from './domain/ports.ts';

/**
 * Billing's business metrics (docs/operations.md, "Monitoring"). Created unregistered, so the services can use them
 * before the server (and its registry) exists; `register` adds them to the process's registry.
 */
export function createBillingMetrics() {
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
  const credits = new Counter({
    name: 'billing_credits_total',
    help: 'Credits moved by credit holds: reserved (held), settled (charged when a hold is settled), released (returned to the balance: a released hold, or what a settlement did not use)',
    labelNames: ['flow'] as const,
    registers: [],
  });
  const reservations = new Counter({
    name: 'billing_reservations_total',
    help: 'Credit holds by what happened to them: held, settled, released (by their caller or the sweeper)',
    labelNames: ['event'] as const,
    registers: [],
  });
  const ordersCreated = new Counter({ name: 'billing_orders_created_total', help: 'Orders created with a payment instruction, by channel', labelNames: ['channel'] as const, registers: [] });
  const ordersPaid = new Counter({ name: 'billing_orders_paid_total', help: 'Orders paid (PENDING → PAID, credits booked), by channel', labelNames: ['channel'] as const, registers: [] });
  const refunds = new Counter({ name: 'billing_refunds_total', help: 'Refunds finished at the provider, by channel and outcome (succeeded, failed)', labelNames: ['channel', 'outcome'] as const, registers: [] });
  const orderSms = new Counter({
    name: 'billing_order_sms_total',
    help: "Payment-success SMS delivery attempts by outcome: the user subgraph's answer (sent, no_phone, disabled, unconfirmed), retry (failed, asked again later) or parked (given up)",
    labelNames: ['outcome'] as const,
    registers: [],
  });
  const all: Metric[] = [notifications, reconciliations, sweptReservations, credits, reservations, ordersCreated, ordersPaid, refunds, orderSms];

  const events: Required<PaymentEvents> = {
    orderCreated: (order) => ordersCreated.inc({ channel: order.channel }),
    orderPaid: (order) => ordersPaid.inc({ channel: order.channel }),
    refundFinished: (channel, outcome) => refunds.inc({ channel, outcome }),
  };

  /** The same store, counting the holds it opens and closes (only the calls that changed something). */
  function observeCreditStore(store: CreditStore): CreditStore {
    return {
      ...store,
      async hold(account, reservation) {
        const outcome = await store.hold(account, reservation);
        if (outcome.kind === 'held') {
          reservations.inc({ event: 'held' });
          credits.inc({ flow: 'reserved' }, outcome.reservation.amount);
        }
        return outcome;
      },
      async close(reservation, request) {
        const outcome = await store.close(reservation, request);
        if (outcome.kind === 'closed') {
          const hold = outcome.reservation.amount;
          if (request.status === 'SETTLED') {
            reservations.inc({ event: 'settled' });
            credits.inc({ flow: 'settled' }, outcome.charged);
            if (hold > outcome.charged) credits.inc({ flow: 'released' }, hold - outcome.charged);
          } else {
            reservations.inc({ event: 'released' });
            credits.inc({ flow: 'released' }, hold);
          }
        }
        return outcome;
      },
    };
  }

  return {
    notifications,
    orderSms,
    reconciliations,
    sweptReservations,
    events,
    observeCreditStore,
    /**
     * Adds every metric to the registry, plus the gauges of orders by status and of payment-success SMS notices by
     * state (read from MySQL at scrape time, so a PARKED notice stays visible until an operator deals with it).
     */
    register(registry: Registry, db: Pick<BillingDb, 'order' | 'orderPaidNotice'>) {
      for (const metric of all) registry.registerMetric(metric);
      new Gauge({
        name: 'billing_orders',
        help: 'Orders by status (all tenants)',
        labelNames: ['status'] as const,
        registers: [registry],
        async collect() {
          const counts = await db.order.groupBy({ by: ['status'], _count: { _all: true } }).catch(() => []);
          this.reset();
          for (const row of counts) this.set({ status: row.status }, row._count._all);
        },
      });
      new Gauge({
        name: 'billing_order_paid_notices',
        help: 'Payment-success SMS notices by state (all tenants): PENDING (to send), PARKED (given up; an operator looks at lastError); DONE is not counted',
        labelNames: ['state'] as const,
        registers: [registry],
        async collect() {
          const counts = await db.orderPaidNotice.groupBy({ by: ['state'], where: { state: { in: ['PENDING', 'PARKED'] } }, _count: { _all: true } }).catch(() => null);
          if (!counts) return;
          this.reset();
          // Both states always exported (0 when none), so the alert and the panel see a series from the start.
          for (const state of ['PENDING', 'PARKED'] as const) this.set({ state }, counts.find((row) => row.state === state)?._count._all ?? 0);
        },
      });
    },
  };
}

export type BillingMetrics = ReturnType<typeof createBillingMetrics>;
