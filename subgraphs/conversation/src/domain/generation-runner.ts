import { isDashScopeError, type ChatRequest, type DashScopeClient } from '@firefly/dashscope';
import type { GenerationRecord, GenerationRegistry } from '../data/generation-registry.ts';
import { StreamConflictError, type MessageStreamStore } from '../data/message-streams.ts';
import { DELIVERY_ERROR, describeUpstreamFailure, SHUTDOWN_ERROR, TIMEOUT_ERROR } from './describe-failure.ts';
import { finishGeneration, type Ending, type FinishDeps, type TokenUsage } from './finish-generation.ts';

/** Why this process aborted a generation. */
export type AbortKind = 'stop' | 'timeout' | 'shutdown' | 'lease-lost';

class GenerationAbort extends Error {
  override readonly name = 'GenerationAbort';
  constructor(readonly kind: AbortKind) {
    super(`generation aborted: ${kind}`);
  }
}

export interface GenerationJob {
  record: GenerationRecord;
  request: ChatRequest;
}

export interface GenerationRunnerOptions extends FinishDeps {
  dashscope: DashScopeClient;
  streams: MessageStreamStore;
  registry: GenerationRegistry;
  /** This process's owner token in generation records. */
  instanceId: string;
  /** Lease renewal period (a third of the lease). */
  heartbeatMs: number;
  /** Cut-off for one whole generation. */
  generationTimeoutMs: number;
  /** Called when a generation ends, whatever the outcome (metrics). */
  onEnded?: (outcome: Ending['status'] | 'abandoned') => void;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs generations in this process: streams DashScope's answer into the message's Redis Stream, renews the lease,
 * and ends the message through {@link finishGeneration}. A generation is independent of any subscriber: only
 * stopGeneration (or the timeout, or shutdown) aborts the upstream request.
 */
export function createGenerationRunner(options: GenerationRunnerOptions) {
  const running = new Map<string, Running>();
  const { logger } = options;

  async function run(job: GenerationJob, controller: AbortController): Promise<void> {
    const { record } = job;
    const log = logger.child({ messageId: record.messageId, conversationId: record.conversationId });
    const heartbeat = setInterval(() => {
      options.registry.heartbeat(record, options.instanceId).then(
        (result) => {
          if (result === 'lost') controller.abort(new GenerationAbort('lease-lost'));
          else if (result === 'stop-requested') controller.abort(new GenerationAbort('stop'));
        },
        (error: unknown) => log.warn({ err: error }, 'could not renew the generation lease'),
      );
    }, options.heartbeatMs);
    const timeout = setTimeout(() => controller.abort(new GenerationAbort('timeout')), options.generationTimeoutMs);

    let seq = 0;
    let content = '';
    let usage: TokenUsage | null = null;
    let finishReason: string | null = null;
    let ending: Ending | 'abandoned';
    try {
      for await (const chunk of options.dashscope.streamChat(job.request, { signal: controller.signal })) {
        usage = { inputTokens: chunk.usage.inputTokens, outputTokens: chunk.usage.outputTokens };
        if (chunk.delta !== '') {
          seq += 1;
          content += chunk.delta;
          await options.streams.appendDelta(record.messageId, seq, chunk.delta, usage);
        }
        if (chunk.finishReason !== null) finishReason = chunk.finishReason;
      }
      ending = { status: 'COMPLETED', content, usage, finishReason: finishReason ?? 'stop', error: null, charge: true, lastSeq: seq };
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
      const partial = { content, usage, lastSeq: seq, finishReason: null };
      if (reason instanceof GenerationAbort) {
        switch (reason.kind) {
          case 'stop':
            ending = { ...partial, status: 'STOPPED', finishReason: 'stop_requested', error: null, charge: true };
            break;
          case 'timeout':
            ending = { ...partial, status: 'FAILED', error: TIMEOUT_ERROR, charge: true };
            break;
          case 'shutdown':
            ending = { ...partial, status: 'FAILED', error: SHUTDOWN_ERROR, charge: true };
            break;
          case 'lease-lost':
            ending = 'abandoned';
            break;
        }
      } else if (reason instanceof StreamConflictError) {
        // Someone took the generation over (our lease had expired): they finish it.
        ending = 'abandoned';
      } else if (isDashScopeError(reason)) {
        log.warn({ err: reason, kind: reason.kind, upstreamCode: reason.upstreamCode, requestId: reason.requestId }, 'generation failed upstream');
        ending = { ...partial, status: 'FAILED', error: describeUpstreamFailure(reason, seq > 0), charge: false };
      } else {
        log.error({ err: reason }, 'generation failed');
        ending = { ...partial, status: 'FAILED', error: DELIVERY_ERROR, charge: false };
      }
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
    }

    if (ending === 'abandoned') {
      log.warn('generation lease lost; the sweeper that took it over finishes the message');
      options.onEnded?.('abandoned');
      return;
    }
    await finishGeneration(options, record, ending);
    options.onEnded?.(ending.status);
  }

  return {
    /** Starts a generation in the background. Never rejects; failures end the message FAILED. */
    start(job: GenerationJob): void {
      const controller = new AbortController();
      const done = run(job, controller)
        .catch((error: unknown) => logger.error({ err: error, messageId: job.record.messageId }, 'could not finish a generation; the sweeper will'))
        .finally(() => running.delete(job.record.messageId));
      running.set(job.record.messageId, { controller, done });
    },
    /** Aborts a generation if this process runs it; true when it did. */
    abort(messageId: string, kind: AbortKind): boolean {
      const entry = running.get(messageId);
      if (!entry) return false;
      entry.controller.abort(new GenerationAbort(kind));
      return true;
    },
    isRunning(messageId: string): boolean {
      return running.has(messageId);
    },
    count(): number {
      return running.size;
    },
    /**
     * Shutdown: lets running generations finish for up to `timeoutMs`, then aborts the rest, which end FAILED with
     * their partial text, charged for what was generated.
     */
    async drain(timeoutMs: number): Promise<void> {
      if (running.size === 0) return;
      const all = () => Promise.all([...running.values()].map((entry) => entry.done));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), timeoutMs);
      });
      const outcome = await Promise.race([all().then(() => 'drained' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'expired') {
        for (const entry of running.values()) entry.controller.abort(new GenerationAbort('shutdown'));
        await all();
      }
    },
  };
}

export type GenerationRunner = ReturnType<typeof createGenerationRunner>;
