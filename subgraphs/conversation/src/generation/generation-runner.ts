import { isDashScopeError, type ChatRequest, type DashScopeClient } from '@firefly/dashscope';
import { assertNever } from '@firefly/errors';
import { termsOf, type GenerationEnding, type TokenUsage } from './endings.ts';
import { finishGeneration, type FinishDeps } from './finish-generation.ts';
import { StreamConflictError, StreamLostError } from './message-streams.ts';
import type { FinalState, GenerationRecord } from './ports.ts';

/** Why this process aborted a generation. */
export type AbortKind = 'stop' | 'timeout' | 'shutdown' | 'lease-lost' | 'dropped';

class GenerationAbort extends Error {
  override readonly name = 'GenerationAbort';
  constructor(readonly kind: AbortKind) {
    super(`generation aborted: ${kind}`);
  }
}

export interface GenerationJob {
  /** The generation's identity: its message, owner, conversation and model (the hold is known once `ready` says so). */
  generation: Omit<GenerationRecord, 'reservationId'>;
  request: ChatRequest;
  /** The model's provider as the caller read it with the model (saves the router a lookup before sending). */
  provider?: string;
  /**
   * Resolves with the generation's record once its credits are held and its message rows stored, or null when
   * either failed. The upstream request starts at once, so DashScope's first token is on its way meanwhile; nothing
   * is appended to the stream and nothing is finished before this resolves, and on null the request is aborted and
   * the generation dropped without a trace (the caller undoes whatever it had done).
   */
  ready: Promise<GenerationRecord | null>;
}

/**
 * What generates answers: streaming chat only. Nothing in this subgraph asks for a whole answer at once (titles are
 * derived from the first message, domain/derive-title.ts), so the clients' non-streaming `chat` is not part of it.
 */
export type ChatStreamClient = Pick<DashScopeClient, 'streamChat'>;

export interface GenerationRunnerOptions extends FinishDeps {
  dashscope: ChatStreamClient;
  /** This process's owner token in generation records. */
  instanceId: string;
  /** Lease renewal period (a third of the lease). */
  heartbeatMs: number;
  /** Cut-off for one whole generation. */
  generationTimeoutMs: number;
  /** Called when a generation ends, whatever the outcome (metrics). */
  onEnded?: (outcome: FinalState['status'] | 'abandoned') => void;
}

interface Running {
  controller: AbortController;
  generation: GenerationJob['generation'];
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
    const { generation } = job;
    const log = logger.child({ messageId: generation.messageId, conversationId: generation.conversationId });
    // Until the hold is placed and the rows are stored the generation has no message to write to and no hold to
    // settle: wait for them before the first write. Its lease exists from then on too, so it is renewed from then.
    let record: GenerationRecord | null | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let ended = false;
    const renew = () => {
      options.registry.heartbeat(generation, options.instanceId).then(
        (result) => {
          if (result === 'lost') controller.abort(new GenerationAbort('lease-lost'));
          else if (result === 'stop-requested') controller.abort(new GenerationAbort('stop'));
        },
        (error: unknown) => log.warn({ err: error }, 'could not renew the generation lease'),
      );
    };
    job.ready.then(
      (ready) => {
        if (!ready) controller.abort(new GenerationAbort('dropped'));
        else if (!ended) heartbeat = setInterval(renew, options.heartbeatMs);
      },
      () => controller.abort(new GenerationAbort('dropped')),
    );
    const whenReady = async (): Promise<GenerationRecord | null> => {
      if (record === undefined) record = await job.ready.catch(() => null);
      return record;
    };
    const timeout = setTimeout(() => controller.abort(new GenerationAbort('timeout')), options.generationTimeoutMs);

    let seq = 0;
    let content = '';
    let usage: TokenUsage | null = null;
    /** Every delta written, by seq − 1: what a stream Redis lost is written again from. */
    const deltas: string[] = [];
    const append = async (delta: string, tokens: TokenUsage): Promise<void> => {
      try {
        await options.streams.appendDelta(generation.messageId, seq, delta, tokens);
      } catch (error) {
        if (!(error instanceof StreamLostError)) throw error;
        log.warn({ seq }, 'the message stream was lost from Redis; written again from this generation');
        await options.streams.restore(generation.messageId, deltas, tokens);
      }
    };
    const restoreIfLost = async (): Promise<void> => {
      try {
        if (!(await options.streams.exists(generation.messageId))) await options.streams.restore(generation.messageId, deltas, usage);
      } catch (error) {
        // Someone else wrote it meanwhile (StreamConflictError), or Redis is not answering: the sweep decides.
        if (!(error instanceof StreamConflictError)) log.warn({ err: error }, 'could not check the message stream');
      }
    };
    let finishReason: string | null = null;
    let ending: GenerationEnding | 'abandoned';
    try {
      for await (const chunk of options.dashscope.streamChat(job.request, { signal: controller.signal, ...(job.provider !== undefined ? { provider: job.provider } : {}) })) {
        usage = { inputTokens: chunk.usage.inputTokens, outputTokens: chunk.usage.outputTokens };
        if (chunk.delta !== '') {
          if (!(await whenReady())) break;
          seq += 1;
          content += chunk.delta;
          deltas.push(chunk.delta);
          await append(chunk.delta, usage);
        }
        if (chunk.finishReason !== null) finishReason = chunk.finishReason;
      }
      ending = { kind: 'completed', finishReason: finishReason ?? 'stop' };
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
      ending = endingOf(reason);
      if (isDashScopeError(reason)) {
        log.warn({ err: reason, kind: reason.kind, upstreamCode: reason.upstreamCode, requestId: reason.requestId }, 'generation failed upstream');
      } else if (ending !== 'abandoned' && ending.kind === 'delivery-failed') {
        log.error({ err: reason }, 'generation failed');
      }
    } finally {
      ended = true;
      clearInterval(heartbeat);
      clearTimeout(timeout);
    }

    const ready = await whenReady();
    if (!ready) {
      log.debug('the credits could not be held or the message stored; generation dropped');
      return;
    }
    // Redis may have lost the stream since the last delta (a restart loses the record with it, which is how this
    // process learns it lost the lease): written again, whoever finishes the message ends the text its subscribers saw.
    if (seq > 0) await restoreIfLost();
    if (ending === 'abandoned') {
      log.warn('generation lease lost; the sweeper that took it over finishes the message');
      options.onEnded?.('abandoned');
      return;
    }
    const output = { content, usage, lastSeq: seq };
    await finishGeneration(options, ready, output, ending);
    options.onEnded?.(termsOf(ending, output).status);
  }

  return {
    /** Starts a generation in the background. Never rejects; failures end the message FAILED. */
    start(job: GenerationJob): void {
      const controller = new AbortController();
      const done = run(job, controller)
        .catch((error: unknown) => logger.error({ err: error, messageId: job.generation.messageId }, 'could not finish a generation; the sweeper will'))
        .finally(() => running.delete(job.generation.messageId));
      running.set(job.generation.messageId, { controller, generation: job.generation, done });
    },
    /** Aborts a generation if this process runs it; true when it did. */
    abort(messageId: string, kind: AbortKind): boolean {
      const entry = running.get(messageId);
      if (!entry) return false;
      entry.controller.abort(new GenerationAbort(kind));
      return true;
    },
    count(): number {
      return running.size;
    },
    /**
     * Who a generation this process runs belongs to (tenant, user), without asking Redis: a subscriber following its
     * own answer right after sendMessage is authorized from here. Undefined when this process does not run it.
     */
    generation(messageId: string): GenerationJob['generation'] | undefined {
      return running.get(messageId)?.generation;
    },
    /** True while this process runs the generation (up to and including its final write). */
    isRunning(messageId: string): boolean {
      return running.has(messageId);
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

/**
 * The ending of a generation that did not complete, from what interrupted it; `abandoned` when this process lost
 * the generation to a sweeper (its lease expired), which then finishes the message.
 */
function endingOf(reason: unknown): GenerationEnding | 'abandoned' {
  if (reason instanceof GenerationAbort) {
    switch (reason.kind) {
      case 'stop':
        return { kind: 'stopped' };
      case 'timeout':
        return { kind: 'timed-out' };
      case 'shutdown':
        return { kind: 'shut-down' };
      case 'lease-lost':
      case 'dropped':
        return 'abandoned';
      default:
        return assertNever(reason.kind);
    }
  }
  // Someone took the generation over (our lease had expired): they finish it.
  if (reason instanceof StreamConflictError) return 'abandoned';
  if (isDashScopeError(reason)) return { kind: 'upstream-failed', error: reason };
  return { kind: 'delivery-failed' };
}
