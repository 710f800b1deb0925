import { randomUUID } from 'node:crypto';
import { badUserInput, isAppError, rateLimited } from '@firefly/errors';
import type { ChatMessage } from '@firefly/dashscope';
import type { MessageRow } from '../domain/ports.ts';
import type { GenerationParameters } from '../domain/validate-conversation.ts';
import type { ConversationServices } from '../services.ts';
import type { GenerationRecord } from './ports.ts';

export interface GenerationStart {
  tenantId: string;
  userId: string;
  requestId: string;
  /** The partner whose API key made the request, if any: the hold (and so its ledger entry) is tagged with it. */
  partner?: { partnerId: string; apiKeyId: string } | undefined;
  conversationId: string;
  model: { id: string; provider?: string };
  parameters: GenerationParameters;
  /** The prompt, already within the model's budget. */
  messages: ChatMessage[];
  /** Our estimate of its input tokens (an upper bound, token-estimate.ts). */
  inputTokens: number;
  maxOutputTokens: number;
  /** A new question to store with the answer (sendMessage), or the existing one (regenerateMessage). */
  question: { kind: 'new'; content: string; derivedTitle?: string } | { kind: 'existing'; id: string };
  /** Stored on the answer (generation/idempotent-request.ts). */
  idempotencyKey?: string;
}

/**
 * The part sendMessage and regenerateMessage share. Order matters:
 * 0. this process must have room for another answer (admission.ts: RATE_LIMITED at once when it has not, before
 *    any I/O, rather than a start taken on by a process that would answer it late);
 * 1. take one of the user's concurrent-generation slots (RATE_LIMITED when none is free);
 * 2. have billing price the worst case (this prompt's input estimate + the answer's output cap) and hold it, in one
 *    call (reserveChat) — INSUFFICIENT_CREDITS, or BAD_USER_INPUT for an unpriced model, means nothing was stored
 *    and DashScope was never called;
 * 3. start the DashScope request as soon as the hold is placed (the time to the first token is the upstream's, not
 *    ours plus the upstream's); the runner writes nothing until the rows are stored, and drops the request if
 *    recording or storing fails;
 * 4. meanwhile record the generation and its lease in Redis, *then* store the messages: a process dying between the
 *    two leaves a lease the sweeper cleans up (releasing the hold), never a STREAMING row without a lease.
 * Each step undoes the earlier ones when it fails.
 */
export async function startGeneration(services: ConversationServices, start: GenerationStart): Promise<{ question: MessageRow | null; answer: MessageRow }> {
  const { settings, registry, credits } = services;
  const answerId = randomUUID();
  const scope = { tenantId: start.tenantId, requestId: start.requestId };

  services.admission.admit();
  const maxConcurrent = settings.maxConcurrentGenerationsPerUser; // the run-time setting, read once per request
  if (!(await registry.acquireSlot(start.tenantId, start.userId, answerId, maxConcurrent))) {
    throw rateLimited(
      Math.ceil(settings.leaseMs / 1_000),
      `At most ${maxConcurrent} answers can be generated at once; wait for one to finish or stop it`,
    );
  }

  let reservationId: string;
  try {
    const reservation = await credits.reserveChat({
      ...scope,
      partner: start.partner,
      userId: start.userId,
      modelId: start.model.id,
      inputTokens: start.inputTokens,
      outputTokens: start.maxOutputTokens,
      referenceId: answerId,
      ttlSeconds: settings.reservationTtlSeconds,
      idempotencyKey: `chat-message:${answerId}`,
    });
    reservationId = reservation.id;
  } catch (error) {
    await registry.releaseSlot(start.tenantId, start.userId, answerId).catch(() => undefined);
    // Billing answers NOT_FOUND for a model without a price: the conversation's model cannot be used.
    if (isAppError(error) && error.code === 'NOT_FOUND') throw badUserInput(`The model ${start.model.id} cannot be used: it has no price`, { field: 'modelId' });
    throw error;
  }

  const record: GenerationRecord = {
    messageId: answerId,
    tenantId: start.tenantId,
    userId: start.userId,
    conversationId: start.conversationId,
    modelId: start.model.id,
    reservationId,
  };
  // The DashScope request starts now, while the record is written: the runner writes nothing before `stored`, and
  // the messages are stored only once the record exists (a failed record drops the request unseen).
  const registered = registry.register(record, services.instanceId);
  let markStored!: (ok: boolean) => void;
  services.runner.start({
    record,
    ...(start.model.provider !== undefined ? { provider: start.model.provider } : {}),
    request: {
      model: start.model.id,
      messages: start.messages,
      maxTokens: start.maxOutputTokens,
      ...(start.parameters.temperature !== null ? { temperature: start.parameters.temperature } : {}),
      ...(start.parameters.topP !== null ? { topP: start.parameters.topP } : {}),
      enableSearch: start.parameters.enableSearch,
    },
    stored: new Promise<boolean>((resolve) => (markStored = resolve)),
  });
  try {
    await registered;
  } catch (error) {
    markStored(false);
    await Promise.allSettled([credits.release({ ...scope, reservationId }), registry.remove(record)]);
    throw error;
  }
  let stored: { question: MessageRow | null; answer: MessageRow };
  try {
    const now = Date.now();
    const question = start.question.kind === 'new' ? { id: randomUUID(), content: start.question.content, createdAt: new Date(now) } : undefined;
    const replyToId = start.question.kind === 'new' ? question!.id : start.question.id;
    stored = await services.turns.store({
      tenantId: start.tenantId,
      userId: start.userId,
      conversationId: start.conversationId,
      question,
      // One millisecond after the question, so "newest last" always shows the answer after it.
      answer: { id: answerId, replyToId, reservationId, createdAt: new Date(now + 1), idempotencyKey: start.idempotencyKey },
      derivedTitle: start.question.kind === 'new' ? start.question.derivedTitle : undefined,
    });
  } catch (error) {
    markStored(false);
    // Undoes only this request's own hold and record (a duplicate's DuplicateRequestError included).
    await Promise.allSettled([credits.release({ ...scope, reservationId }), registry.remove(record)]);
    throw error;
  }
  markStored(true);
  return stored;
}
