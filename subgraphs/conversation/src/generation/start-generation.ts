import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { reservationIdFor } from '@firefly/credits-client';
import { badUserInput, isAppError, rateLimited } from '@firefly/errors';
import type { ChatMessage } from '@firefly/dashscope';
import type { MessageRow } from '../domain/ports.ts';
import type { GenerationParameters } from '../domain/validate-conversation.ts';
import type { ConversationServices } from '../services.ts';
import type { GenerationJob } from './generation-runner.ts';
import { DuplicateRequestError, type GenerationRecord, type NewTurn } from './ports.ts';

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
  /** The answer's id, whose slot the caller took with {@link withGenerationSlot}. */
  answerId: string;
}

/**
 * Admission and one of the user's concurrent-generation slots, taken while `read` loads what the answer needs (one
 * Redis round trip less in sequence before the hold): the process must have room for another answer (admission.ts:
 * RATE_LIMITED at once, before any I/O), then the slot (RATE_LIMITED when none is free). When `read` fails, its
 * error is the answer (NOT_FOUND, BAD_USER_INPUT, … as before) and a slot taken meanwhile is given back. Hand the
 * answer id to {@link startGeneration}, which owns the slot from then on.
 */
export async function withGenerationSlot<T>(services: ConversationServices, owner: { tenantId: string; userId: string }, read: () => Promise<T>): Promise<{ answerId: string; value: T }> {
  const { settings, registry } = services;
  services.admission.admit();
  const answerId = randomUUID();
  const maxConcurrent = settings.maxConcurrentGenerationsPerUser; // the run-time setting, read once per request
  const [value, slot] = await Promise.allSettled([read(), registry.acquireSlot(owner.tenantId, owner.userId, answerId, maxConcurrent)]);
  if (value.status === 'rejected') {
    if (slot.status === 'fulfilled' && slot.value) await registry.releaseSlot(owner.tenantId, owner.userId, answerId).catch(() => undefined);
    throw value.reason;
  }
  if (slot.status === 'rejected') throw slot.reason;
  if (!slot.value) {
    throw rateLimited(Math.ceil(settings.leaseMs / 1_000), `At most ${maxConcurrent} answers can be generated at once; wait for one to finish or stop it`);
  }
  return { answerId, value: value.value };
}

/**
 * The part sendMessage and regenerateMessage share, once the answer has its slot ({@link withGenerationSlot}).
 * Order matters:
 * 1. start the DashScope request (when the early start allows it, early-start.ts) while billing prices the worst
 *    case (this prompt's input estimate + the answer's output cap) and holds it, in one call (reserveChat), and
 *    while the question and the STREAMING answer are stored (one INSERT, with the hold's id, known in advance): the
 *    time to the first token is the upstream's, and sendMessage's answer waits for the slower of the two, not both;
 * 2. a failed hold (INSUFFICIENT_CREDITS, BAD_USER_INPUT for an unpriced model, billing unreachable) removes the
 *    stored messages again and aborts the request, if started, unseen — no credits held, nothing kept; failed rows
 *    release the hold — no credits held for a message that was never stored. Without the early start the request
 *    starts once the hold is placed;
 * 3. then the generation's record and lease in Redis, the conversation's lastMessageAt and title (only now: a
 *    refused question does not name the conversation). A STREAMING row without a record (a process that died in
 *    between) is found by the lost-record sweep after a lease and ended FAILED, its hold released;
 * 4. only then may the runner write: it appends nothing to the stream and finishes nothing before, and drops the
 *    request if the hold, the rows or the record failed.
 * Each step undoes the earlier ones when it fails (the slot, the hold, the rows, the record).
 */
export async function startGeneration(services: ConversationServices, start: GenerationStart): Promise<{ question: MessageRow | null; answer: MessageRow }> {
  const { settings, registry, credits, runner, earlyStart } = services;
  const { answerId } = start;
  const scope = { tenantId: start.tenantId, requestId: start.requestId };
  const generation = { messageId: answerId, tenantId: start.tenantId, userId: start.userId, conversationId: start.conversationId, modelId: start.model.id };
  let settle!: (record: GenerationRecord | null) => void;
  const job: GenerationJob = {
    generation,
    ...(start.model.provider !== undefined ? { provider: start.model.provider } : {}),
    request: {
      model: start.model.id,
      messages: start.messages,
      maxTokens: start.maxOutputTokens,
      ...(start.parameters.temperature !== null ? { temperature: start.parameters.temperature } : {}),
      ...(start.parameters.topP !== null ? { topP: start.parameters.topP } : {}),
      enableSearch: start.parameters.enableSearch,
    },
    ready: new Promise<GenerationRecord | null>((resolve) => (settle = resolve)),
  };
  const now = Date.now();
  const question = start.question.kind === 'new' ? { id: randomUUID(), content: start.question.content, createdAt: new Date(now) } : undefined;
  const holdKey = `chat-message:${answerId}`;
  // The hold's id is known before billing answers (derived from its key), so the answer is stored with it meanwhile.
  const expectedHold = reservationIdFor(start.tenantId, start.userId, holdKey);
  const turn: NewTurn = {
    tenantId: start.tenantId,
    userId: start.userId,
    conversationId: start.conversationId,
    question,
    // One millisecond after the question, so "newest last" always shows the answer after it.
    answer: { id: answerId, replyToId: question ? question.id : (start.question as { id: string }).id, reservationId: expectedHold, createdAt: new Date(now + 1), idempotencyKey: start.idempotencyKey },
    derivedTitle: start.question.kind === 'new' ? start.question.derivedTitle : undefined,
  };
  const messageIds = [...(question ? [question.id] : []), answerId];
  const discard = () =>
    services.turns.discard({ tenantId: start.tenantId, messageIds }).catch((error: unknown) =>
      // Left STREAMING without a record: the lost-record sweep ends it FAILED after a lease, releasing (or not finding) the hold.
      services.logger.error({ err: error, messageId: answerId }, 'could not remove the messages of a turn whose hold failed'),
    );

  const early = earlyStart.allows(start.tenantId, start.userId);
  if (early) runner.start(job);
  const began = performance.now();
  let held = began;
  let inserted = began;
  const holding = credits
    .reserveChat({
      ...scope,
      partner: start.partner,
      userId: start.userId,
      modelId: start.model.id,
      inputTokens: start.inputTokens,
      outputTokens: start.maxOutputTokens,
      referenceId: answerId,
      ttlSeconds: settings.reservationTtlSeconds,
      idempotencyKey: holdKey,
    })
    .finally(() => (held = performance.now()));
  // Settled below, after the wait: handled from now on, so a quick refusal is not an unhandled rejection meanwhile.
  holding.catch(() => undefined);
  // The HTTP requests leave before the INSERT is prepared. undici writes a request on a kept-alive connection only in
  // the event loop's check phase (setImmediate: it first looks for a close already on its way), and Prisma preparing
  // the INSERT takes this thread for milliseconds, which came first: the DashScope request left 4-5 ms after it was
  // made, billing's hold as late. Two turns of the loop: billing's request is made a few promise steps after this
  // point, its check-phase write queued after ours.
  await nextLoopTurns(2);
  const [hold, rows] = await Promise.allSettled([
    holding,
    services.turns.insert(turn).finally(() => (inserted = performance.now())),
  ]);
  // A duplicate request (its idempotency key taken by the answer of another) is answered with that answer, whatever
  // this one's hold did (idempotent-request.ts); otherwise a failed hold is the answer.
  const duplicate = rows.status === 'rejected' && rows.reason instanceof DuplicateRequestError;

  if (hold.status === 'rejected') {
    settle(null);
    earlyStart.failed(start.tenantId, start.userId);
    await Promise.all([registry.releaseSlot(start.tenantId, start.userId, answerId).catch(() => undefined), rows.status === 'fulfilled' ? discard() : undefined]);
    if (duplicate) throw rows.reason;
    const error: unknown = hold.reason;
    // Billing answers NOT_FOUND for a model without a price: the conversation's model cannot be used.
    if (isAppError(error) && error.code === 'NOT_FOUND') throw badUserInput(`The model ${start.model.id} cannot be used: it has no price`, { field: 'modelId' });
    throw error;
  }

  const reservationId = hold.value.id;
  earlyStart.held(start.tenantId, start.userId);
  const record: GenerationRecord = { ...generation, reservationId };
  if (!early) runner.start(job);
  const undo = async () => {
    settle(null);
    // Undoes only this request's own hold, record and rows (a duplicate's DuplicateRequestError included).
    await Promise.allSettled([credits.release({ ...scope, reservationId }), registry.remove(record), rows.status === 'fulfilled' ? discard() : undefined]);
  };
  if (rows.status === 'rejected') {
    await undo();
    throw rows.reason;
  }
  try {
    await Promise.all([
      registry.register(record, services.instanceId),
      services.turns.touchConversation(turn),
      reservationId === expectedHold ? undefined : services.turns.setReservation({ tenantId: start.tenantId, messageId: answerId }, reservationId),
    ]);
  } catch (error) {
    await undo();
    throw error;
  }
  settle(record);
  const ms = (from: number, to: number) => Math.round((to - from) * 100) / 100;
  services.logger.debug({ messageId: answerId, early, holdMs: ms(began, held), insertMs: ms(began, inserted), sendMessageMs: ms(began, performance.now()) }, 'generation started');
  return rows.value;
}

/** Resolves after `turns` check phases of the event loop (setImmediate), letting I/O queued meanwhile go first. */
async function nextLoopTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
