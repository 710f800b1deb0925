import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EndReason } from './end-reason.ts';

/** Window of the `gateway_subscription_events_per_second` gauge. */
const RATE_WINDOW_SECONDS = 10;

/**
 * Prometheus metrics of the graphql-ws leg, registered on the gateway's own registry (so `/metrics` shows them next
 * to the HTTP ones). `events_total` is the counter to `rate()` in Prometheus; `events_per_second` is the same
 * figure over the last 10 s for people reading `/metrics` by hand.
 */
export function createSubscriptionMetrics(registry: Registry) {
  const registers = [registry];
  const connections = new Gauge({ name: 'gateway_ws_connections', help: 'Open graphql-ws client sockets (acknowledged)', registers });
  const active = new Gauge({
    name: 'gateway_subscriptions_active',
    help: 'Active federated subscriptions by root field',
    labelNames: ['field'] as const,
    registers,
  });
  const started = new Counter({ name: 'gateway_subscriptions_started_total', help: 'Subscriptions started, by root field', labelNames: ['field'] as const, registers });
  const ended = new Counter({
    name: 'gateway_subscriptions_ended_total',
    help: 'Subscriptions ended, by root field and reason',
    labelNames: ['field', 'reason'] as const,
    registers,
  });
  const events = new Counter({ name: 'gateway_subscription_events_total', help: 'Events sent to clients, by root field', labelNames: ['field'] as const, registers });
  const buckets = new Array<number>(RATE_WINDOW_SECONDS + 1).fill(0);
  let bucketSecond = Math.floor(Date.now() / 1000);
  const rotate = () => {
    const now = Math.floor(Date.now() / 1000);
    for (let s = bucketSecond + 1; s <= now && s - bucketSecond <= buckets.length; s++) buckets[s % buckets.length] = 0;
    bucketSecond = now;
  };
  new Gauge({
    name: 'gateway_subscription_events_per_second',
    help: `Events sent to clients per second, averaged over the last ${RATE_WINDOW_SECONDS} s`,
    registers,
    collect() {
      rotate();
      // The current second is still filling up: average over the completed ones.
      const current = bucketSecond % buckets.length;
      const total = buckets.reduce((sum, n, i) => (i === current ? sum : sum + n), 0);
      this.set(total / RATE_WINDOW_SECONDS);
    },
  });
  const upstreamSockets = new Gauge({
    name: 'gateway_subscription_upstream_sockets',
    help: 'Open graphql-ws sockets from the gateway to subgraphs',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const eventDuration = new Histogram({
    name: 'gateway_subscription_event_duration_seconds',
    help: 'Time to resolve one event (the rest of the plan: other subgraphs\' fields)',
    labelNames: ['field'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const eventDelay = new Histogram({
    name: 'gateway_subscription_event_delay_seconds',
    help: 'Time an event spends in the gateway: from its arrival from the subgraph to its result going to the client (waiting behind earlier events, then resolving)',
    labelNames: ['field'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const superseded = new Counter({
    name: 'gateway_subscription_events_superseded_total',
    help: 'Events of whole-state fields (SUBSCRIPTION_LATEST_STATE_FIELDS) dropped because a newer one arrived before they were sent, by root field',
    labelNames: ['field'] as const,
    registers,
  });
  const fetchesMerged = new Counter({
    name: 'gateway_subscription_entity_fetches_merged_total',
    help: 'Entity fetches of subscription events answered by an identical fetch of the same connection already in flight, by subgraph',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'gateway_ws_refused_total',
    help: 'graphql-ws connections or subscriptions refused, by reason',
    labelNames: ['reason'] as const,
    registers,
  });

  return {
    connectionOpened: () => connections.inc(),
    connectionClosed: () => connections.dec(),
    subscriptionStarted(field: string) {
      started.inc({ field });
      active.inc({ field });
    },
    subscriptionEnded(field: string, reason: EndReason) {
      active.dec({ field });
      ended.inc({ field, reason });
    },
    /** `seconds`: resolving it; `delaySeconds`: from its arrival from the subgraph. */
    eventSent(field: string, seconds: number, delaySeconds: number) {
      events.inc({ field });
      eventDuration.observe({ field }, seconds);
      eventDelay.observe({ field }, delaySeconds);
      rotate();
      buckets[bucketSecond % buckets.length]! += 1;
    },
    eventSuperseded: (field: string) => superseded.inc({ field }),
    entityFetchMerged: (subgraph: string) => fetchesMerged.inc({ subgraph }),
    upstreamOpened: (subgraph: string) => upstreamSockets.inc({ subgraph }),
    upstreamClosed: (subgraph: string) => upstreamSockets.dec({ subgraph }),
    refused: (reason: string) => refused.inc({ reason }),
  };
}

export type SubscriptionMetrics = ReturnType<typeof createSubscriptionMetrics>;
