import type { FaultError } from './faults.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { ReplyMessage } from './reply.ts';
import { estimatePromptTokens } from './tokens.ts';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

// The text DashScope uses for any bad role/content (captured in docs/dashscope.md §3.1).
const BAD_MESSAGE = 'Role must be user or assistant and Content length must be greater than 0';

export function invalidParameter(message: string): FaultError {
  return { status: 400, code: 'InvalidParameter', message };
}

/** Messages as the simulator uses them; multimodal content arrays are flattened to their text parts. */
export function checkMessages(raw: unknown): ReplyMessage[] | FaultError {
  if (!Array.isArray(raw) || raw.length === 0) return invalidParameter(BAD_MESSAGE);
  const messages: ReplyMessage[] = [];
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null) return invalidParameter(BAD_MESSAGE);
    const { role, content } = entry as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) return invalidParameter(BAD_MESSAGE);
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content.map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String((part as { text: unknown }).text) : '')).join('')
          : undefined;
    // Assistant turns that only carried tool calls may be empty; everything else needs text.
    if (text === undefined || (text === '' && role !== 'assistant')) return invalidParameter(BAD_MESSAGE);
    messages.push({ role, content: text });
  }
  return messages;
}

export function checkChatModel(model: unknown, options: ResolvedSimulatorOptions): FaultError | undefined {
  if (typeof model !== 'string' || model === '') {
    return { status: 400, code: 'BadRequest.EmptyModel', message: 'Required parameter "model" missing from request.' };
  }
  const known = options.chatModels ? options.chatModels.includes(model) : /^(qwen|qwq)/i.test(model);
  return known ? undefined : { status: 404, code: 'ModelNotFound', message: 'Model not exist.' };
}

export function checkInputLength(messages: readonly ReplyMessage[], options: ResolvedSimulatorOptions): FaultError | undefined {
  const tokens = estimatePromptTokens(messages.map((m) => m.content));
  return tokens > options.maxInputTokens
    ? invalidParameter(`Range of input length should be [1, ${options.maxInputTokens}]`)
    : undefined;
}

/** Input moderation: a trigger word anywhere in the conversation. */
export function checkInputInspection(messages: readonly ReplyMessage[], options: ResolvedSimulatorOptions): FaultError | undefined {
  const hit = messages.some((m) => options.inspectionTriggers.some((t) => t !== '' && m.content.includes(t)));
  return hit ? { status: 400, code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' } : undefined;
}

/** Output moderation is decided by the last user message only, so a conversation can recover from it. */
export function wantsOutputInspection(messages: readonly ReplyMessage[], options: ResolvedSimulatorOptions): boolean {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return options.outputInspectionTriggers.some((t) => t !== '' && lastUser.includes(t));
}

export interface SamplingParams {
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: string[];
}

/** Range checks for the parameters both chat APIs share (docs/dashscope.md §2 table). */
export function checkSampling(params: Record<string, unknown>): SamplingParams | FaultError {
  const { max_tokens: maxTokens, temperature, top_p: topP, seed, stop } = params;
  if (maxTokens !== undefined && maxTokens !== null && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    return invalidParameter('max_tokens must be a positive integer');
  }
  if (temperature !== undefined && temperature !== null && (typeof temperature !== 'number' || temperature < 0 || temperature >= 2)) {
    return invalidParameter('Temperature should be in [0.0, 2.0)');
  }
  if (topP !== undefined && topP !== null && (typeof topP !== 'number' || topP <= 0 || topP > 1)) {
    return invalidParameter('Range of top_p should be (0.0, 1.0]');
  }
  if (seed !== undefined && seed !== null && (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 2 ** 31 - 1)) {
    return invalidParameter('seed should be in [0, 2147483647]');
  }
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [];
  return {
    maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
    seed: typeof seed === 'number' ? seed : undefined,
    stop: stops,
  };
}

export function isFaultError(value: unknown): value is FaultError {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value && 'message' in value;
}
