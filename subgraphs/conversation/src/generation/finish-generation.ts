import type { CreditsClient } from '@firefly/credits-client';
import type { Logger } from '@firefly/logger';
import { termsOf, type GenerationEnding, type GenerationOutput } from './endings.ts';
import { StreamConflictError } from './message-streams.ts';
import type { GenerationRecord, GenerationRegistry, MessageStreamStore, SettlementOutbox, TurnStore } from './ports.ts';
import { settleOrPark } from './settlements.ts';

export interface FinishDeps {
  turns: TurnStore;
  credits: CreditsClient;
  outbox: SettlementOutbox;
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
 * Billing failures do not keep the message STREAMING: the message ends anyway with `creditsCharged` null, and the
 * settlement waits in the outbox (settlements.ts) until billing answers.
 */
export async function finishGeneration(deps: FinishDeps, record: GenerationRecord, output: GenerationOutput, ending: GenerationEnding): Promise<void> {
  const log = deps.logger.child({ messageId: record.messageId });
  const terms = termsOf(ending, output);
  const creditsCharged = await settleOrPark(
    deps,
    { tenantId: record.tenantId, reservationId: record.reservationId, messageId: record.messageId, modelId: record.modelId, usage: terms.charge ? output.usage : null },
    log,
  );
  const finished = await deps.turns.finish(
    { tenantId: record.tenantId, messageId: record.messageId },
    {
      status: terms.status,
      content: output.content,
      inputTokens: output.usage?.inputTokens ?? null,
      outputTokens: output.usage?.outputTokens ?? null,
      finishReason: terms.finishReason,
      error: terms.error,
      errorCode: terms.errorCode,
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
