import { randomUUID } from 'node:crypto';
import { badUserInput, notFound } from '@firefly/errors';
import { requestStop } from '../generation/stop-generation.ts';
import type { ChatModelRow, ConversationFields, ConversationRow } from './ports.ts';
import type { ConversationScope } from './scope.ts';
import { validateParameters, validateSystemPrompt, validateTitle, type GenerationParametersInput } from './validate-conversation.ts';

export interface CreateConversationInput {
  title?: string | null;
  modelId?: string | null;
  systemPrompt?: string | null;
  parameters?: GenerationParametersInput | null;
}

export type UpdateConversationInput = CreateConversationInput;

async function requireModel(scope: ConversationScope, modelId: string | null | undefined): Promise<ChatModelRow> {
  const model = modelId ? await scope.models.findById(modelId) : await scope.models.findDefault();
  if (!model || !model.active) throw badUserInput(modelId ? `Unknown chat model ${modelId}` : 'No chat model is available', { field: 'modelId' });
  return model;
}

/**
 * A new conversation. Without a title it is untitled ('' in the row) until its first message names it; the model
 * defaults to the first active model of the catalog; system prompt and parameters are checked against the model.
 */
export async function createConversation(scope: ConversationScope, input: CreateConversationInput): Promise<ConversationRow> {
  const model = await requireModel(scope, input.modelId);
  const parameters = validateParameters(input.parameters, { temperature: null, topP: null, maxTokens: null, enableSearch: false }, model);
  const fields: ConversationFields = {
    title: input.title == null ? '' : validateTitle(input.title),
    modelId: model.id,
    systemPrompt: validateSystemPrompt(input.systemPrompt, model),
    ...parameters,
  };
  return scope.conversations.create(randomUUID(), scope.userId, fields);
}

/**
 * Changes the given fields only (`null` clears a system prompt or resets a parameter to the model's default).
 * Switching models re-checks the system prompt and parameters against the new model's limits.
 */
export async function updateConversation(scope: ConversationScope, id: string, input: UpdateConversationInput): Promise<ConversationRow> {
  const current = await scope.conversations.findOwned(id, scope.userId);
  if (!current) throw notFound('Conversation');
  const model = input.modelId != null ? await requireModel(scope, input.modelId) : await requireModel(scope, current.modelId).catch(() => null);
  const fields: Partial<ConversationFields> = {};
  if (input.title != null) fields.title = validateTitle(input.title);
  if (model) {
    if (input.modelId != null) fields.modelId = model.id;
    const systemPrompt = input.systemPrompt !== undefined ? input.systemPrompt : current.systemPrompt;
    const checkedPrompt = validateSystemPrompt(systemPrompt, model);
    if (input.systemPrompt !== undefined || input.modelId != null) fields.systemPrompt = checkedPrompt;
    if (input.parameters !== undefined || input.modelId != null) Object.assign(fields, validateParameters(input.parameters, current, model));
  } else if (input.systemPrompt !== undefined || input.parameters !== undefined) {
    throw badUserInput(`The conversation's model ${current.modelId} is no longer offered; choose another modelId`, { field: 'modelId' });
  }
  const updated = await scope.conversations.update(id, scope.userId, fields);
  if (!updated) throw notFound('Conversation');
  return updated;
}

/**
 * Soft delete: the conversation and its messages disappear from every read, the rows stay (each answer is also
 * the record of what was charged). Answers still being generated are stopped.
 */
export async function deleteConversation(scope: ConversationScope, id: string): Promise<boolean> {
  const streaming = await scope.messages.streamingIn(id);
  if (!(await scope.conversations.softDelete(id, scope.userId))) throw notFound('Conversation');
  await Promise.allSettled(streaming.map((message) => requestStop(scope.services, message.id)));
  return true;
}
