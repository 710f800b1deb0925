import { badUserInput, conflict, notFound } from '@firefly/errors';
import { withIdempotencyKey } from '../generation/idempotent-request.ts';
import { startGeneration, withGenerationSlot, type GenerationStart } from '../generation/start-generation.ts';
import { buildContext, inputBudgetOf } from './build-context.ts';
import { deriveTitle } from './derive-title.ts';
import type { ChatModelRow, ConversationRow, HistoryMessage, MessageRow } from './ports.ts';
import type { ConversationScope } from './scope.ts';
import { maxOutputTokensOf } from './validate-conversation.ts';

/** The caller's conversation and its model as the tenant sees it, in one statement (before an answer can start). */
async function loadConversation(scope: ConversationScope, conversationId: string): Promise<{ conversation: ConversationRow; model: ChatModelRow }> {
  const found = await scope.conversations.findOwnedWithModel(conversationId, scope.userId);
  if (!found) throw notFound('Conversation');
  const { conversation, model } = found;
  if (!model || !model.active) {
    throw badUserInput(`The conversation's model ${conversation.modelId} is no longer offered; switch it with updateConversation`, { field: 'modelId' });
  }
  return { conversation, model };
}

function validateContent(scope: ConversationScope, content: string): void {
  if (content.trim() === '') throw badUserInput('content must not be empty', { field: 'content' });
  const max = scope.services.settings.maxMessageChars;
  if (content.length > max) throw badUserInput(`content must be at most ${max} characters`, { field: 'content', max });
}

/**
 * sendMessage: checks the message against the model (BAD_USER_INPUT, field `content`), builds the prompt within the
 * model's input budget, then reserves, stores and starts the answer (start-generation.ts). The first message of an
 * untitled conversation names it. With an idempotencyKey, a repeat of the same request returns the first one's
 * messages (in their current state) and charges nothing more; the same key with another conversation or text is
 * a CONFLICT.
 */
export async function sendMessage(scope: ConversationScope, input: { conversationId: string; content: string; idempotencyKey?: string | null }) {
  validateContent(scope, input.content);
  return withIdempotencyKey(scope.services, {
    tenantId: scope.tenantId,
    userId: scope.userId,
    operation: 'sendMessage',
    idempotencyKey: input.idempotencyKey,
    replay: async (answer) => {
      const [question, current] = await Promise.all([answer.replyToId ? scope.messages.findById(answer.replyToId) : null, scope.messages.findById(answer.id)]);
      if (!question || !current) throw notFound('Conversation');
      if (question.conversationId !== input.conversationId || question.content !== input.content) throw keyReused();
      return { userMessage: question, assistantMessage: current };
    },
    run: async (idempotencyKey) => {
      // The history is read alongside the ownership check (both tenant-scoped; a conversation that is not the
      // caller's fails NOT_FOUND and its history is dropped unread), and the generation slot is taken meanwhile:
      // round trips in parallel rather than in sequence before the hold. A prompt that cannot be built (too long
      // for the model) fails there too, giving the slot back.
      const { answerId, value: prepared } = await withGenerationSlot(scope.services, scope, async () => {
        const [{ conversation, model }, history] = await Promise.all([
          loadConversation(scope, input.conversationId),
          scope.messages.recentForContext(input.conversationId, scope.services.settings.contextMaxMessages),
        ]);
        return { conversation, model, context: promptOf(conversation, model, history, input.content) };
      });
      const { conversation, model, context } = prepared;
      const stored = await answerQuestion(
        scope,
        answerId,
        conversation,
        model,
        context,
        { kind: 'new', content: input.content, derivedTitle: conversation.title === '' ? deriveTitle(input.content) : undefined },
        idempotencyKey,
      );
      return { userMessage: stored.question!, assistantMessage: stored.answer };
    },
  });
}

function keyReused() {
  return conflict('This idempotencyKey was already used for a different request', { field: 'idempotencyKey' });
}

/**
 * regenerateMessage: a new answer to the same question, given either the question or one of its answers. Only the
 * latest turn can be regenerated (an answer to an older question would appear after newer turns), and not while
 * an answer to it is still being generated (CONFLICT). The earlier answers stay; the prompt uses the history
 * before the question, so the new answer is independent of them. With an idempotencyKey, a repeat returns the first
 * request's answer (even while it is still being generated) instead of a CONFLICT or a second answer.
 */
export async function regenerateMessage(scope: ConversationScope, messageId: string, idempotencyKey?: string | null) {
  return withIdempotencyKey(scope.services, {
    tenantId: scope.tenantId,
    userId: scope.userId,
    operation: 'regenerateMessage',
    idempotencyKey,
    replay: async (answer) => {
      const [target, current] = await Promise.all([scope.messages.findById(messageId), scope.messages.findById(answer.id)]);
      if (!target || target.userId !== scope.userId || !current) throw notFound('Message');
      if (questionOf(target) !== answer.replyToId) throw keyReused();
      return current;
    },
    run: (storedKey) => regenerate(scope, messageId, storedKey),
  });
}

function questionOf(message: MessageRow): string | null {
  return message.role === 'USER' ? message.id : message.replyToId;
}

async function regenerate(scope: ConversationScope, messageId: string, idempotencyKey: string | undefined) {
  const target = await scope.messages.findById(messageId);
  if (!target || target.userId !== scope.userId) throw notFound('Message');
  const questionId = questionOf(target);
  if (!questionId) throw badUserInput('This message does not answer a question', { field: 'messageId' });
  const { conversation, model } = await loadConversation(scope, target.conversationId);
  const question = await scope.messages.latestUserMessage(conversation.id);
  if (!question || question.id !== questionId) throw conflict('Only the answer to the latest message can be regenerated');
  if ((await scope.messages.streamingRepliesTo(question.id)).length > 0) {
    throw conflict('An answer to this message is still being generated; stop it first');
  }
  const history = await scope.messages.recentForContext(conversation.id, scope.services.settings.contextMaxMessages, question.createdAt);
  const context = promptOf(conversation, model, history, question.content);
  // The slot only once every check passed: a refused regeneration never holds one, even briefly.
  const { answerId } = await withGenerationSlot(scope.services, scope, async () => undefined);
  const stored = await answerQuestion(scope, answerId, conversation, model, context, { kind: 'existing', id: question.id }, idempotencyKey);
  return stored.answer;
}

/** The prompt: the history within the model's input budget, then the question (BAD_USER_INPUT when it cannot fit). */
function promptOf(conversation: ConversationRow, model: ChatModelRow, history: HistoryMessage[], userContent: string) {
  return buildContext({ systemPrompt: conversation.systemPrompt, history, userContent, budget: inputBudgetOf(model) });
}

/** Starts, reserves and stores the answer to a question, its slot taken (start-generation.ts). */
function answerQuestion(
  scope: ConversationScope,
  answerId: string,
  conversation: ConversationRow,
  model: ChatModelRow,
  context: ReturnType<typeof promptOf>,
  question: GenerationStart['question'],
  idempotencyKey: string | undefined,
) {
  return startGeneration(scope.services, {
    tenantId: scope.tenantId,
    userId: scope.userId,
    requestId: scope.requestId,
    partner: scope.partner,
    conversationId: conversation.id,
    model,
    parameters: conversation,
    messages: context.messages,
    inputTokens: context.inputTokens,
    maxOutputTokens: maxOutputTokensOf(conversation, model),
    question,
    idempotencyKey,
    answerId,
  });
}
