import type { CreditsClient } from '@firefly/credits-client';
import type { Logger } from '@firefly/logger';
import { termsOf, type GenerationEnding, type GenerationOutput } from './endings.ts';
import { StreamConflictError } from './message-streams.ts';
import type { GenerationRecord, GenerationRegistry, MessageStreamStore, TurnStore } from './ports.ts';

export interface FinishDeps {
  turns: TurnStore;
  credits: CreditsClient;
  streams: MessageStreamStore;
  registry: GenerationRegistry;
  logger: Logger;
}

/**
 * Ends a generation — the one way a message is finished, by the runner and by the sweeper alike — in this order:
 * settle or release the credits; write the final message (only if still STREAMING); append the `done` event and
 * start the stream's retention; forget the generation in Redis.
 *
 * The message is written before the `done` event so that a subscriber reading the final message on `done` sees it.
 * Billing failures do not keep the message STREAMING: the message ends anyway with `creditsCharged` null, and
 * billing's own sweeper releases the hold when it expires (the user is then not charged).
 */
export async function finishGeneration(deps: FinishDeps, record: GenerationRecord, output: GenerationOutput, ending: GenerationEnding): Promise<void> {
  const log = deps.logger.child({ messageId: record.messageId });
  const terms = termsOf(ending, output);
  const creditsCharged = await settleCredits(deps, record, terms.charge ? output : null, log);
  const finished = await deps.turns.finish(
    { tenantId: record.tenantId, messageId: record.messageId },
    {
      status: terms.status,
      content: output.content,
      inputTokens: output.usage?.inputTokens ?? null,
      outputTokens: output.usage?.outputTokens ?? null,
      finishReason: terms.finishReason,
      error: terms.error,
      creditsCharged,
    },
  );
  if (!finished) log.warn('the message had already been finished by someone else');
  try {
    await deps.streams.appendDone(record.messageId, output.lastSeq + 1, terms.status);
  } catch (error) {
    // Another finisher already closed the stream: nothing to add.
    if (!(error instanceof StreamConflictError)) throw error;
  }
  await deps.registry.remove(record);
}

/** Settles what `charged` generated, or releases the whole hold when it is null or used no tokens. */
async function settleCredits(deps: FinishDeps, record: GenerationRecord, charged: GenerationOutput | null, log: Logger): Promise<number | null> {
  const scope = { tenantId: record.tenantId, reservationId: record.reservationId };
  const usage = charged?.usage;
  try {
    if (!usage || usage.inputTokens + usage.outputTokens === 0) {
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
