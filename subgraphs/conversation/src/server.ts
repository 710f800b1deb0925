import { isDatabaseUnavailableError } from '@firefly/db';
import { upstreamUnavailable } from '@firefly/errors';
import { readFileSync } from 'node:fs';
import { Counter, Gauge } from 'prom-client';
import type { CreditsClient } from '@firefly/credits-client';
import type { ConversationDb, Db } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { ConversationConfig } from './config.ts';
import { createConversationContext } from './context.ts';
import { createDashScopeMetrics } from './dashscope-metrics.ts';
import { deliverPendingSettlementsJob } from './jobs/deliver-pending-settlements.ts';
import { sweepOrphanedGenerationsJob } from './jobs/sweep-orphaned-generations.ts';
import { resolvers } from './resolvers/index.ts';
import { closeConversationServices, createConversationServices, type ConversationServices } from './services.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadConversationConfig, type ConversationConfig } from './config.ts';

/** What the process hands the conversation subgraph; it releases them itself after stop(). */
export interface ConversationDeps {
  db: ConversationDb & Pick<Db, '$queryRaw' | '$executeRaw'>;
  /** Command connection (its keyPrefix isolates environments and test runs); duplicated for the stream reader and stop signals. */
  redis: Redis;
  logger: Logger;
  /** Billing's credit API (the credits client on BILLING_SUBGRAPH_URL with a service credential). */
  credits: CreditsClient;
}

export interface ConversationSubgraph extends SubgraphServer {
  services: ConversationServices;
}

/**
 * Builds the conversation subgraph without listening (tests drive it; src/main.ts runs it): the GraphQL server,
 * the chat generation services of this process (generation/), the sweeper of orphaned generations and the
 * settlement outbox's delivery. stop()
 * drains running generations before closing them.
 */
export async function buildConversationSubgraph(config: ConversationConfig, deps: ConversationDeps): Promise<ConversationSubgraph> {
  const generations = new Counter({ name: 'conversation_generations_total', help: 'Finished generations by outcome', labelNames: ['outcome'] as const, registers: [] });
  const dashscopeMetrics = createDashScopeMetrics();
  const services = await createConversationServices(config, deps, { onEnded: (outcome) => generations.inc({ outcome }), observeDashScope: dashscopeMetrics.observe });
  const server = await createSubgraphServer({
    // MySQL unreachable (refused, timed out, no pooled connection in time): UPSTREAM_UNAVAILABLE, not INTERNAL.
    classifyError: (error) => (isDatabaseUnavailableError(error) ? upstreamUnavailable('The database is unavailable', { service: 'mysql' }) : undefined),
    name: 'conversation',
    typeDefs,
    resolvers,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    logger: deps.logger,
    environment: config,
    createContext: (base) => createConversationContext(deps, services, base),
    rateLimits: { redis: deps.redis, per: 'caller', overrides: config.CONVERSATION_RATE_LIMITS },
    readiness: [redisReadiness(deps.redis), mysqlReadiness(deps.db)],
    jobs: [
      sweepOrphanedGenerationsJob({ services, everyMs: config.GENERATION_SWEEP_INTERVAL_SECONDS * 1_000 }),
      deliverPendingSettlementsJob({ services, everyMs: config.GENERATION_SWEEP_INTERVAL_SECONDS * 1_000 }),
    ],
    onStop: () => closeConversationServices(services),
  });

  const registers = [server.metrics.registry];
  server.metrics.registry.registerMetric(generations);
  for (const metric of dashscopeMetrics.metrics) server.metrics.registry.registerMetric(metric);
  new Gauge({
    name: 'conversation_active_stream_iterators',
    help: 'Open messageStream subscriptions (iterators not yet returned) in this process',
    registers,
    collect() {
      this.set(services.iterators.active);
    },
  });
  new Gauge({
    name: 'conversation_stream_reader_watchers',
    help: 'Message streams followed by the shared stream reader',
    registers,
    collect() {
      this.set(services.hub.watcherCount());
    },
  });
  new Gauge({
    name: 'conversation_pending_settlements',
    help: 'Chat settlements waiting in the outbox for billing to answer (all replicas)',
    registers,
    async collect() {
      this.set(await services.outbox.count().catch(() => 0));
    },
  });
  new Counter({
    name: 'conversation_generation_starts_refused_total',
    help: 'Generation starts this process refused at once with RATE_LIMITED: capacity (GENERATION_CAPACITY) or loop_delay (GENERATION_MAX_LOOP_DELAY_MS)',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      // Counted by the admission itself (no I/O on the refusing path); copied here at scrape time.
      this.reset();
      for (const [reason, count] of Object.entries(services.admission.refusals())) this.inc({ reason }, count);
    },
  });
  new Gauge({
    name: 'conversation_active_generations',
    help: 'Generations running in this process',
    registers,
    collect() {
      this.set(services.runner.count());
    },
  });

  return { ...server, services };
}
