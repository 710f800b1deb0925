import type { CreditsClient } from '@firefly/credits-client';
import type { ConversationDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { GenerationRegistry } from '../data/generation-registry.ts';
import type { MessageStreamStore } from '../data/message-streams.ts';
import type { StopSignals } from '../data/stop-signals.ts';
import type { StreamHub } from '../data/stream-hub.ts';
import type { GenerationRunner } from './generation-runner.ts';

/** Generation settings, from the configuration (config.ts documents each). */
export interface ChatSettings {
  maxConcurrentGenerationsPerUser: number;
  leaseMs: number;
  contextMaxMessages: number;
  maxMessageChars: number;
  /** Hold time asked of billing: longer than any generation can take, plus its lease. */
  reservationTtlSeconds: number;
  /** How long stopGeneration waits for the generating process to confirm. */
  stopWaitMs: number;
  /** A subscriber that heard nothing for this long checks the stored message (see message-stream-iterator.ts). */
  streamIdleCheckMs: number;
}

/** Process-wide services of chat generation, shared by every request. */
export interface ChatRuntime {
  instanceId: string;
  db: ConversationDb;
  credits: CreditsClient;
  streams: MessageStreamStore;
  registry: GenerationRegistry;
  hub: StreamHub;
  runner: GenerationRunner;
  stopSignals: StopSignals;
  settings: ChatSettings;
  logger: Logger;
  /** Open messageStream iterators in this process (the `conversation_active_stream_iterators` gauge). */
  iterators: { active: number };
}
