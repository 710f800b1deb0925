import { randomUUID } from 'node:crypto';
import type { CreditsClient } from '@firefly/credits-client';
import { createCompatibleChatClient, createDashScopeClient, DashScopeError, type CallOptions, type ChatChunk, type ChatRequest } from '@firefly/dashscope';
import type { Logger } from '@firefly/logger';
import { followSettings, type RuntimeSettings } from '@firefly/platform-state';
import { closeRedis, QUEUEING_CLIENT_OPTIONS, type Redis } from '@firefly/redis';
import type { ConversationConfig } from './config.ts';
import { createTurnStore } from './data/messages.ts';
import { createSettlementOutbox } from './data/settlements.ts';
import { createStartAdmission, type StartAdmission } from './generation/admission.ts';
import { createEarlyStartPolicy, type EarlyStartPolicy } from './generation/early-start.ts';
import { createGenerationRegistry } from './generation/generation-registry.ts';
import { createGenerationRunner, type ChatStreamClient, type GenerationRunner, type GenerationRunnerOptions } from './generation/generation-runner.ts';
import { createMessageStreamStore } from './generation/message-streams.ts';
import type { GenerationRegistry, MessageStreamStore, RequestClaims, SettlementOutbox, StopSignals, StreamHub, TurnStore } from './generation/ports.ts';
import { createRequestClaims } from './generation/request-claims.ts';
import { createStopSignals } from './generation/stop-signals.ts';
import { createStreamHub } from './generation/stream-hub.ts';
import type { ConversationDeps } from './server.ts';

/** Generation settings, from the configuration (config.ts documents each). */
export interface ChatSettings {
  /** Read at each use: the run-time setting maxConcurrentGenerationsPerUser, else the environment's. */
  readonly maxConcurrentGenerationsPerUser: number;
  leaseMs: number;
  contextMaxMessages: number;
  maxMessageChars: number;
  /** Hold time asked of billing: longer than any generation can take, plus its lease. */
  reservationTtlSeconds: number;
  /** How long stopGeneration waits for the generating process to confirm. */
  stopWaitMs: number;
  /** A subscriber that heard nothing for this long checks the stored message (see generation/watch-message-stream.ts). */
  streamIdleCheckMs: number;
  /** How long stop() lets running generations finish before cutting them off. */
  drainTimeoutMs: number;
}

/** The conversation subgraph's process-wide services (chat generation), built once per server and shared by every request and job. */
export interface ConversationServices {
  /** This process's owner token in generation records. */
  instanceId: string;
  turns: TurnStore;
  credits: CreditsClient;
  /** Chat settlements billing did not accept yet (generation/settlements.ts). */
  outbox: SettlementOutbox;
  streams: MessageStreamStore;
  /** The token streams' own connection (closed with the services). */
  streamWriter: Redis;
  registry: GenerationRegistry;
  hub: StreamHub;
  runner: GenerationRunner;
  /** Whether this process takes another generation now (GENERATION_CAPACITY, GENERATION_MAX_LOOP_DELAY_MS). */
  admission: StartAdmission;
  /** Whose answers start upstream before their credits are held (GENERATION_EARLY_START; generation/early-start.ts). */
  earlyStart: EarlyStartPolicy;
  stopSignals: StopSignals;
  /** One request per idempotency key at a time (generation/idempotent-request.ts). */
  claims: RequestClaims;
  settings: ChatSettings;
  /** System settings set at run time, followed through Redis (stopped with the services). */
  runtimeSettings: RuntimeSettings;
  logger: Logger;
  /** Open messageStream iterators in this process (the `conversation_active_stream_iterators` gauge). */
  iterators: { active: number };
  /** The providers a chat model may name (upsertChatModel): `dashscope` and the configured OpenAI-compatible ones. */
  chatProviders: readonly string[];
}

function chatSettingsOf(config: ConversationConfig, runtimeSettings: Pick<RuntimeSettings, 'get'>): ChatSettings {
  const leaseMs = config.GENERATION_LEASE_SECONDS * 1_000;
  return {
    // A value set at run time (setSetting, shared through Redis), else the environment's.
    get maxConcurrentGenerationsPerUser() {
      return runtimeSettings.get('maxConcurrentGenerationsPerUser', config.MAX_CONCURRENT_GENERATIONS_PER_USER);
    },
    leaseMs,
    contextMaxMessages: config.CONTEXT_MAX_MESSAGES,
    maxMessageChars: config.MAX_MESSAGE_CHARS,
    reservationTtlSeconds: config.GENERATION_TIMEOUT_SECONDS + 3 * config.GENERATION_LEASE_SECONDS + 60,
    stopWaitMs: Math.max(5_000, leaseMs),
    streamIdleCheckMs: leaseMs,
    // Leave a little of the shutdown grace period for closing sockets after the generations are drained.
    drainTimeoutMs: Math.max(1_000, (config.SHUTDOWN_GRACE_SECONDS - 2) * 1_000),
  };
}

/**
 * The chat runtime of this process: the generation runner, the shared stream reader, the stop-signal listener.
 * Close it with {@link closeConversationServices} after the server stopped.
 */
export async function createConversationServices(
  config: ConversationConfig,
  deps: ConversationDeps,
  hooks: Pick<GenerationRunnerOptions, 'onEnded'> & {
    /** Wraps the chat client (metrics). */
    observeDashScope?: (client: ChatStreamClient) => ChatStreamClient;
  } = {},
): Promise<ConversationServices> {
  const { redis, logger } = deps;
  const instanceId = randomUUID();
  // System settings set at run time (maxConcurrentGenerationsPerUser), followed through Redis (@firefly/platform-state).
  const runtimeSettings = followSettings({ redis, logger });
  runtimeSettings.follower.start().catch((error: unknown) => logger.error({ err: error }, 'following the system settings failed'));
  const settings = chatSettingsOf(config, runtimeSettings);
  if (config.dashscope.mode === 'simulator') {
    logger.warn(
      { baseUrl: config.dashscope.baseUrl },
      '*** DASHSCOPE_API_KEY is not set: chat answers come from the local DashScope SIMULATOR, not from Qwen (development only) ***',
    );
  }
  const client = createDashScopeClient({
    baseUrl: config.dashscope.baseUrl,
    apiKey: config.dashscope.apiKey,
    workspace: config.dashscope.workspace,
    timeoutMs: config.DASHSCOPE_TIMEOUT_MS,
    maxRetries: config.DASHSCOPE_MAX_RETRIES,
    onRetry: ({ retry, delayMs, error }) => logger.warn({ retry, delayMs, upstreamCode: error.upstreamCode, requestId: error.requestId }, 'retrying DashScope'),
  });
  const compatible = new Map(
    config.CHAT_PROVIDERS.map((provider) => [
      provider.name,
      createCompatibleChatClient({ baseUrl: provider.baseUrl, apiKey: provider.apiKey, timeoutMs: config.DASHSCOPE_TIMEOUT_MS, maxRetries: config.DASHSCOPE_MAX_RETRIES }),
    ]),
  );
  const routed = routeByProvider(client, compatible, (modelId) => providerOf(deps.db, modelId));
  const dashscope = hooks.observeDashScope ? hooks.observeDashScope(routed) : routed;
  const turns = createTurnStore(deps.db);
  const outbox = createSettlementOutbox(deps.db);
  // Token streams on a connection of their own that waits out a short Redis blip instead of failing the delta (the
  // request-path client fails fast): a delta lost to a blip would be a gap in every subscriber's stream.
  const streamWriter = redis.duplicate({ ...QUEUEING_CLIENT_OPTIONS, connectionName: 'subgraph-conversation-streams' });
  const streams = createMessageStreamStore(streamWriter, {
    liveTtlSeconds: config.GENERATION_TIMEOUT_SECONDS + config.STREAM_RETENTION_SECONDS,
    retentionSeconds: config.STREAM_RETENTION_SECONDS,
  });
  const registry = createGenerationRegistry(redis, { leaseMs: settings.leaseMs, recordTtlMs: (settings.reservationTtlSeconds + 3_600) * 1_000 });
  const hub = createStreamHub({ redis, instanceId, logger: logger.child({ component: 'stream-reader' }) });
  const runner = createGenerationRunner({
    turns,
    credits: deps.credits,
    outbox,
    streams,
    registry,
    dashscope,
    instanceId,
    logger: logger.child({ component: 'generation' }),
    heartbeatMs: Math.max(200, Math.floor(settings.leaseMs / 3)),
    generationTimeoutMs: config.GENERATION_TIMEOUT_SECONDS * 1_000,
    onEnded: hooks.onEnded,
  });
  const admission = createStartAdmission({ capacity: config.GENERATION_CAPACITY, maxLoopDelayMs: config.GENERATION_MAX_LOOP_DELAY_MS, active: () => runner.count() });
  const stopSignals = await createStopSignals({ redis, logger, onStop: (messageId) => void runner.abort(messageId, 'stop') });
  const claims = createRequestClaims(redis);
  const earlyStart = createEarlyStartPolicy({ enabled: config.GENERATION_EARLY_START });
  return {
    instanceId,
    turns,
    credits: deps.credits,
    outbox,
    streams,
    streamWriter,
    registry,
    hub,
    runner,
    admission,
    earlyStart,
    stopSignals,
    claims,
    settings,
    runtimeSettings,
    logger,
    iterators: { active: 0 },
    chatProviders: ['dashscope', ...compatible.keys()],
  };
}

/** Drains running generations (up to `settings.drainTimeoutMs`), then closes the stream reader and the stop listener. */
export async function closeConversationServices(services: ConversationServices): Promise<void> {
  await services.runner.drain(services.settings.drainTimeoutMs);
  services.admission.close();
  await Promise.all([services.hub.close(), services.stopSignals.close(), services.runtimeSettings.follower.stop()]);
  await closeRedis(services.streamWriter);
}

/**
 * The chat client the generation runner uses: each answer goes to the provider its model names (ChatModel.provider,
 * read per generation so an operator's change applies to the next answer on every replica) — DashScope's native API,
 * or an OpenAI-compatible endpoint of CHAT_PROVIDERS. A provider no longer configured fails the answer as upstream
 * unavailable rather than sending it elsewhere. Streaming only: nothing in this subgraph asks for a whole answer at
 * once (titles are derived from the first message), so there is no non-streaming path to route.
 */
function routeByProvider(native: ChatStreamClient, compatible: ReadonlyMap<string, ChatStreamClient>, providerOf: (modelId: string) => Promise<string>): ChatStreamClient {
  const clientOf = (provider: string) => (provider === 'dashscope' ? native : compatible.get(provider));
  async function* afterLookup(request: ChatRequest, options: CallOptions | undefined): AsyncGenerator<ChatChunk, void, undefined> {
    const provider = options?.provider ?? (await providerOf(request.model));
    const client = clientOf(provider);
    if (!client) {
      throw new DashScopeError({ code: 'UPSTREAM_UNAVAILABLE', kind: 'unknown', retryable: false, message: `chat provider ${provider} is not configured on this server` });
    }
    yield* client.streamChat(request, options);
  }
  return {
    streamChat(request, options) {
      // sendMessage read the provider with the model: its answers get the provider's own stream, without another
      // generator layer between it and the runner for every token. Only a caller that did not pays for the lookup.
      const client = options?.provider !== undefined ? clientOf(options.provider) : undefined;
      return client ? client.streamChat(request, options) : afterLookup(request, options);
    },
  };
}

async function providerOf(db: ConversationDeps['db'], modelId: string): Promise<string> {
  const row = await db.chatModel.findUnique({ where: { id: modelId }, select: { provider: true } });
  return row?.provider ?? 'dashscope';
}
