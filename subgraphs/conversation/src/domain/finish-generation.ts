import type { CreditsClient } from '@firefly/credits-client';
import type { ConversationDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { GenerationRecord, GenerationRegistry } from '../data/generation-registry.ts';
import { finishMessage, type FinalState } from '../data/messages.ts';
import { StreamConflictError, type MessageStreamStore } from '../data/message-streams.ts';

export interface FinishDeps {
  db: ConversationDb;
  credits: CreditsClient;
  streams: MessageStreamStore;
  registry: GenerationRegistry;
  logger: Logger;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** How a generation ended, as its finisher (the owner or a sweeper) saw it. */
export interface Ending {
  status: FinalState['status'];
  content: string;
  /** Cumulative usage of the last upstream event; null when none arrived. */
  usage: TokenUsage | null;
  finishReason: string | null;
  error: string | null;
  /**
   * Settle at the real cost of what was generated (completed, stopped, cut off, process died), or release the
   * whole hold (upstream failures: the user got no usable answer).
   */
  charge: boolean;
  /** Seq of the last delta written; the done event gets the next one. */
  lastSeq: number;
}

/**
 * Ends a generation, in this order: settle or release the credits; write the final message (only if still
 * STREAMING); append the `done` event and start the stream's retention; forget the generation in Redis.
 *
 * The message is written before the `done` event so that a subscriber reading the final message on `done` sees it.
 * Billing failures do not keep the message STREAMING: the message ends anyway with `creditsCharged` null, and
 * billing's own sweeper releases the hold when it expires (the user is then not charged).
 */
export async function finishGeneration(deps: FinishDeps, record: GenerationRecord, ending: Ending): Promise<void> {
  const log = deps.logger.child({ messageId: record.messageId });
  const creditsCharged = await settleCredits(deps, record, ending, log);
  const finished = await finishMessage(
    deps.db,
    { tenantId: record.tenantId, messageId: record.messageId },
    {
      status: ending.status,
      content: ending.content,
      inputTokens: ending.usage?.inputTokens ?? null,
      outputTokens: ending.usage?.outputTokens ?? null,
      finishReason: ending.finishReason,
      error: ending.error,
      creditsCharged,
    },
  );
  if (!finished) log.warn('the message had already been finished by someone else');
  try {
    await deps.streams.appendDone(record.messageId, ending.lastSeq + 1, ending.status);
  } catch (error) {
    // Another finisher already closed the stream: nothing to add.
    if (!(error instanceof StreamConflictError)) throw error;
  }
  await deps.registry.remove(record);
}

async function settleCredits(deps: FinishDeps, record: GenerationRecord, ending: Ending, log: Logger): Promise<number | null> {
  const scope = { tenantId: record.tenantId, reservationId: record.reservationId };
  const usage = ending.usage;
  try {
    if (!ending.charge || !usage || usage.inputTokens + usage.outputTokens === 0) {
      await deps.credits.release(scope);
      return 0;
    }
    const cost = await deps.credits.quoteChat({ tenantId: record.tenantId, modelId: record.modelId, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
    const settled = await deps.credits.settle({ ...scope, actualAmount: cost, reason: 'CHAT_USAGE', referenceId: record.messageId });
    if (settled.shortfall > 0) log.warn({ cost, shortfall: settled.shortfall }, 'the chat cost exceeded the hold and the balance');
    return settled.settledAmount ?? cost;
  } catch (error) {
    log.error({ err: error, reservationId: record.reservationId }, 'could not settle the chat reservation; billing releases it at expiry');
    return null;
  }
}
