import { protocolError } from './error-mapping.ts';
import type { ChatRequest, FinishReason, TokenUsage } from './types.ts';

/** Native text-generation request body (docs/dashscope.md §2). Messages go inside `input`, never next to `model`. */
export interface WireGenerationRequest {
  model: string;
  input: { messages: { role: string; content: string }[] };
  parameters: {
    result_format: 'message';
    incremental_output?: boolean;
    max_tokens?: number;
    temperature?: number;
    top_p?: number;
    seed?: number;
    enable_search?: boolean;
    stop?: string | string[];
  };
}

export function buildGenerationBody(request: ChatRequest, stream: boolean): WireGenerationRequest {
  const parameters: WireGenerationRequest['parameters'] = { result_format: 'message' };
  // incremental_output only means something for SSE; with it every event carries only the new text (§2, §3).
  if (stream) parameters.incremental_output = true;
  if (request.maxTokens !== undefined) parameters.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) parameters.temperature = request.temperature;
  if (request.topP !== undefined) parameters.top_p = request.topP;
  if (request.seed !== undefined) parameters.seed = request.seed;
  if (request.enableSearch !== undefined) parameters.enable_search = request.enableSearch;
  if (request.stop !== undefined) parameters.stop = typeof request.stop === 'string' ? request.stop : [...request.stop];
  return {
    model: request.model,
    input: { messages: request.messages.map((m) => ({ role: m.role, content: m.content })) },
    parameters,
  };
}

/** The parts of a `result` payload we use, normalised. Unknown keys are ignored on purpose (§2.1). */
export interface GenerationOutput {
  content: string;
  reasoningContent: string;
  finishReason: FinishReason | null;
  usage: TokenUsage;
  requestId: string | undefined;
}

export interface WireErrorEnvelope {
  code?: string;
  message?: string;
  requestId?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function parseJson(text: string, requestId?: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw protocolError('DashScope sent a payload that is not JSON', requestId, cause);
  }
}

/**
 * Reads `output` + `usage` of a native result, in `message` format or (defensively) `text` format (§2.1, §3).
 * While streaming, `finish_reason` is the string `"null"`, not JSON null (§3).
 */
export function parseGenerationOutput(payload: unknown, requestId?: string): GenerationOutput {
  if (!isObject(payload) || !isObject(payload.output)) {
    throw protocolError('DashScope result has no `output` object', str(isObject(payload) ? payload.request_id : undefined) ?? requestId);
  }
  const output = payload.output;
  let content: string;
  let reasoningContent = '';
  let rawFinish: unknown;
  const choices = output.choices;
  if (Array.isArray(choices)) {
    const choice: unknown = choices[0];
    const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
    content = str(message.content) ?? '';
    reasoningContent = str(message.reasoning_content) ?? '';
    rawFinish = isObject(choice) ? choice.finish_reason : undefined;
  } else {
    content = str(output.text) ?? '';
    rawFinish = output.finish_reason;
  }
  const finish = str(rawFinish);
  const usage = isObject(payload.usage) ? payload.usage : {};
  const inputTokens = int(usage.input_tokens);
  const outputTokens = int(usage.output_tokens);
  return {
    content,
    reasoningContent,
    finishReason: finish === undefined || finish === 'null' || finish === '' ? null : finish,
    usage: {
      inputTokens,
      outputTokens,
      totalTokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : inputTokens + outputTokens,
    },
    requestId: str(payload.request_id) ?? requestId,
  };
}

/**
 * Reads an error envelope: native `{code, message, request_id}` (§6) or compatible-mode `{error: {code, …}}` (§4).
 * Key order varies, so everything is read by name.
 */
export function parseErrorEnvelope(payload: unknown): WireErrorEnvelope {
  if (!isObject(payload)) return {};
  const nested = isObject(payload.error) ? payload.error : undefined;
  return {
    code: str(payload.code) ?? str(nested?.code) ?? str(nested?.type),
    message: str(payload.message) ?? str(nested?.message),
    requestId: str(payload.request_id) ?? str(payload.id),
  };
}
