import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Counter, Gauge } from 'prom-client';
import { createCreditsClient, type CreditsClient } from '@firefly/credits-client';
import { createDashScopeClient } from '@firefly/dashscope';
import type { ConversationDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, type ReadinessCheck, type SubgraphServer } from '@firefly/server-kit';
import type { ConversationConfig } from './config.ts';
import { createConversationContext } from './context.ts';
import { createGenerationRegistry } from './data/generation-registry.ts';
import { createMessageStreamStore } from './data/message-streams.ts';
import { createStopSignals } from './data/stop-signals.ts';
import { createStreamHub } from './data/stream-hub.ts';
import type { ChatRuntime, ChatSettings } from './domain/chat-runtime.ts';
import { createGenerationRunner } from './domain/generation-runner.ts';
import { startGenerationSweeper, sweepOrphanedGenerations } from './jobs/sweep-orphaned-generations.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadConversationConfig, type ConversationConfig } from './config.ts';

export interface BuildConversationSubgraphOptions {
  db: ConversationDb;
  /** Command connection (its keyPrefix isolates environments and test runs); the subgraph duplicates it for its stream reader and stop signals. */
  redis: Redis;
  config: ConversationConfig;
  /** Billing's credit API. Default: the credits client on BILLING_SUBGRAPH_URL with a service credential. */
  credits?: CreditsClient;
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  exposeErrorDetails?: boolean;
  /** How long stop() lets running generations finish before cutting them off. Default 5000 ms. */
  drainTimeoutMs?: number;
  onStop?: () => Promise<void>;
}

export interface ConversationSubgraph extends SubgraphServer {
  chat: ChatRuntime;
}

export function chatSettingsOf(config: ConversationConfig): ChatSettings {
  const leaseMs = config.GENERATION_LEASE_SECONDS * 1_000;
  return {
    maxConcurrentGenerationsPerUser: config.MAX_CONCURRENT_GENERATIONS_PER_USER,
    leaseMs,
    contextMaxMessages: config.CONTEXT_MAX_MESSAGES,
    maxMessageChars: config.MAX_MESSAGE_CHARS,
    reservationTtlSeconds: config.GENERATION_TIMEOUT_SECONDS + 3 * config.GENERATION_LEASE_SECONDS + 60,
    stopWaitMs: Math.max(5_000, leaseMs),
    streamIdleCheckMs: leaseMs,
  };
}

/**
 * Builds the conversation subgraph without listening (tests drive it; src/main.ts runs it): the GraphQL server plus
 * the chat runtime of this process — the generation runner, the shared stream reader, the stop-signal listener and
 * the sweeper of orphaned generations. stop() drains generations before closing the runtime.
 */
export async function buildConversationSubgraph(options: BuildConversationSubgraphOptions): Promise<ConversationSubgraph> {
  const { config, redis, db } = options;
  const logger = options.logger;
  const instanceId = randomUUID();
  const settings = chatSettingsOf(config);
  if (config.dashscope.mode === 'simulator') {
    logger.warn(
      { baseUrl: config.dashscope.baseUrl },
      '*** DASHSCOPE_API_KEY is not set: chat answers come from the local DashScope SIMULATOR, not from Qwen (development only) ***',
    );
  }

  const dashscope = createDashScopeClient({
    baseUrl: config.dashscope.baseUrl,
    apiKey: config.dashscope.apiKey,
    workspace: config.dashscope.workspace,
    timeoutMs: config.DASHSCOPE_TIMEOUT_MS,
    maxRetries: config.DASHSCOPE_MAX_RETRIES,
    onRetry: ({ retry, delayMs, error }) => logger.warn({ retry, delayMs, upstreamCode: error.upstreamCode, requestId: error.requestId }, 'retrying DashScope'),
  });
  const credits =
    options.credits ??
    createCreditsClient({ url: config.BILLING_SUBGRAPH_URL, secret: options.internalTokenSecret, service: 'conversation', timeoutMs: config.BILLING_TIMEOUT_MS, logger });
  const streams = createMessageStreamStore(redis, {
    liveTtlSeconds: config.GENERATION_TIMEOUT_SECONDS + config.STREAM_RETENTION_SECONDS,
    retentionSeconds: config.STREAM_RETENTION_SECONDS,
  });
  const registry = createGenerationRegistry(redis, { leaseMs: settings.leaseMs, recordTtlMs: (settings.reservationTtlSeconds + 3_600) * 1_000 });
  const hub = createStreamHub({ redis, instanceId, logger: logger.child({ component: 'stream-reader' }) });

  const generations = new Counter({ name: 'conversation_generations_total', help: 'Finished generations by outcome', labelNames: ['outcome'] as const, registers: [] });
  const runner = createGenerationRunner({
    db,
    credits,
    streams,
    registry,
    dashscope,
    instanceId,
    logger: logger.child({ component: 'generation' }),
    heartbeatMs: Math.max(200, Math.floor(settings.leaseMs / 3)),
    generationTimeoutMs: config.GENERATION_TIMEOUT_SECONDS * 1_000,
    onEnded: (outcome) => generations.inc({ outcome }),
  });
  const stopSignals = await createStopSignals({ redis, logger, onStop: (messageId) => void runner.abort(messageId, 'stop') });
  const chat: ChatRuntime = { instanceId, db, credits, streams, registry, hub, runner, stopSignals, settings, logger, iterators: { active: 0 } };

  const sweeperLogger = logger.child({ job: 'generation-sweeper' });
  const sweeper = startGenerationSweeper({
    intervalMs: config.GENERATION_SWEEP_INTERVAL_SECONDS * 1_000,
    sweep: () => sweepOrphanedGenerations(chat, { logger: sweeperLogger }),
    logger: sweeperLogger,
  });

  const server = await createSubgraphServer({
    name: 'conversation',
    typeDefs,
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger,
    createContext: (base) => createConversationContext({ db, chat }, base),
    readiness: [{ name: 'redis', check: () => redis.ping() }, ...(options.readiness ?? [])],
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: async () => {
      await sweeper.stop();
      await runner.drain(options.drainTimeoutMs ?? 5_000);
      await Promise.all([hub.close(), stopSignals.close()]);
      await options.onStop?.();
    },
  });

  const registers = [server.metrics.registry];
  server.metrics.registry.registerMetric(generations);
  new Gauge({
    name: 'conversation_active_stream_iterators',
    help: 'Open messageStream subscriptions (iterators not yet returned) in this process',
    registers,
    collect() {
      this.set(chat.iterators.active);
    },
  });
  new Gauge({
    name: 'conversation_stream_reader_watchers',
    help: 'Message streams followed by the shared stream reader',
    registers,
    collect() {
      this.set(hub.watcherCount());
    },
  });
  new Gauge({
    name: 'conversation_active_generations',
    help: 'Generations running in this process',
    registers,
    collect() {
      this.set(runner.count());
    },
  });

  return { ...server, chat };
}
