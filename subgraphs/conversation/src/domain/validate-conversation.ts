import { badUserInput } from '@firefly/errors';
import { inputBudgetOf } from './build-context.ts';
import { estimateMessageTokens } from './token-estimate.ts';

/** The limits of a chat model that user input is checked against (ChatModel row). */
export interface ModelLimits {
  id: string;
  maxInputTokens: number;
  maxOutputTokens: number;
}

export interface GenerationParametersInput {
  temperature?: number | null;
  topP?: number | null;
  maxTokens?: number | null;
  enableSearch?: boolean | null;
}

/** Stored generation parameters; null means the model's default. */
export interface GenerationParameters {
  temperature: number | null;
  topP: number | null;
  maxTokens: number | null;
  enableSearch: boolean;
}

const MAX_TITLE_LENGTH = 100;
const MAX_SYSTEM_PROMPT_CHARS = 20_000;

/** A title as given by the user: trimmed, 1 to {@link MAX_TITLE_LENGTH} characters. */
export function validateTitle(title: string): string {
  const trimmed = title.replace(/\s+/gu, ' ').trim();
  if (trimmed === '') throw badUserInput('title must not be empty', { field: 'title' });
  if ([...trimmed].length > MAX_TITLE_LENGTH) throw badUserInput(`title must be at most ${MAX_TITLE_LENGTH} characters`, { field: 'title' });
  return trimmed;
}

/**
 * A system prompt: empty means none; it may use at most half of the model's input budget, so that a conversation
 * always has room for the user's messages.
 */
export function validateSystemPrompt(systemPrompt: string | null | undefined, model: ModelLimits): string | null {
  if (systemPrompt == null || systemPrompt.trim() === '') return null;
  if (systemPrompt.length > MAX_SYSTEM_PROMPT_CHARS) {
    throw badUserInput(`systemPrompt must be at most ${MAX_SYSTEM_PROMPT_CHARS} characters`, { field: 'systemPrompt' });
  }
  const limit = Math.floor(inputBudgetOf(model) / 2);
  const tokens = estimateMessageTokens(systemPrompt);
  if (tokens > limit) {
    throw badUserInput(`systemPrompt is too long for model ${model.id}: about ${tokens} tokens, at most ${limit}`, { field: 'systemPrompt', maxTokens: limit });
  }
  return systemPrompt;
}

/**
 * Merges parameter input into the current values (`undefined` keeps a value, `null` resets it to the model's
 * default) and checks the result against DashScope's ranges (docs/dashscope.md §2) and the model's output limit.
 */
export function validateParameters(input: GenerationParametersInput | null | undefined, current: GenerationParameters, model: ModelLimits): GenerationParameters {
  const next: GenerationParameters = { temperature: current.temperature, topP: current.topP, maxTokens: current.maxTokens, enableSearch: current.enableSearch };
  if (input) {
    if (input.temperature !== undefined) next.temperature = input.temperature;
    if (input.topP !== undefined) next.topP = input.topP;
    if (input.maxTokens !== undefined) next.maxTokens = input.maxTokens;
    if (input.enableSearch !== undefined) next.enableSearch = input.enableSearch ?? false;
  }
  if (next.temperature !== null && !(Number.isFinite(next.temperature) && next.temperature >= 0 && next.temperature < 2)) {
    throw badUserInput('temperature must be at least 0 and below 2', { field: 'parameters.temperature' });
  }
  if (next.topP !== null && !(Number.isFinite(next.topP) && next.topP > 0 && next.topP <= 1)) {
    throw badUserInput('topP must be above 0 and at most 1', { field: 'parameters.topP' });
  }
  if (next.maxTokens !== null && !(Number.isInteger(next.maxTokens) && next.maxTokens >= 1 && next.maxTokens <= model.maxOutputTokens)) {
    throw badUserInput(`maxTokens must be between 1 and ${model.maxOutputTokens} for model ${model.id}`, { field: 'parameters.maxTokens', max: model.maxOutputTokens });
  }
  return next;
}

/** Output tokens one answer may use: the conversation's maxTokens, else the model's limit. */
export function maxOutputTokensOf(parameters: { maxTokens: number | null }, model: ModelLimits): number {
  return Math.min(parameters.maxTokens ?? model.maxOutputTokens, model.maxOutputTokens);
}
