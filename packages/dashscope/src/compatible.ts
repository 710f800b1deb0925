import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { mapUpstreamError, networkError, parseRetryAfter, protocolError } from './error-mapping.ts';
import { DashScopeError } from './errors.ts';
import type { CallOptions, ChatChunk, ChatMessage, ChatRequest, TokenUsage } from './types.ts';

/** An OpenAI-compatible chat endpoint (DashScope's compatible mode, or another vendor's). */
export interface CompatibleChatClientOptions {
  /** The API root that `/chat/completions` is under, e.g. `https://dashscope.aliyuncs.com/compatible-mode/v1`. */
  baseUrl: string;
  apiKey: string;
  /** Per attempt; default 60,000 ms. */
  timeoutMs?: number;
  /** Retries of a failed request before any answer byte (throttling, 5xx, network); default 2. */
  maxRetries?: number;
}

/** The streaming half of the DashScope client's interface, so the generation runner takes either. */
export interface CompatibleChatClient {
  streamChat(request: ChatRequest, options?: CallOptions): AsyncIterableIterator<ChatChunk>;
}

/**
 * Chat through an OpenAI-compatible `/chat/completions` endpoint with the official `openai` SDK (streaming, usage in
 * the last chunk through `stream_options.include_usage`). Chunks and failures come out exactly as the DashScope
 * client's: gap-free `seq`, a final chunk with `finishReason` and the billed usage, and a {@link DashScopeError}
 * classified from the HTTP status and the compatible-mode error code. The API key stays in the SDK's header.
 */
export function createCompatibleChatClient(options: CompatibleChatClientOptions): CompatibleChatClient {
  const client = new OpenAI({ baseURL: options.baseUrl, apiKey: options.apiKey, timeout: options.timeoutMs ?? 60_000, maxRetries: options.maxRetries ?? 2 });
  return {
    async *streamChat(request, callOptions = {}) {
      let requestId = '';
      try {
        const stream = await client.chat.completions.create(
          {
            model: request.model,
            messages: request.messages.map(toCompatibleMessage),
            stream: true,
            stream_options: { include_usage: true },
            ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
            ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
            ...(request.topP === undefined ? {} : { top_p: request.topP }),
            ...(request.seed === undefined ? {} : { seed: request.seed }),
            ...(request.stop === undefined ? {} : { stop: typeof request.stop === 'string' ? request.stop : [...request.stop] }),
          },
          { signal: callOptions.signal, ...(callOptions.timeoutMs === undefined ? {} : { timeout: callOptions.timeoutMs }) },
        );
        let seq = 0;
        let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
        let finishReason: string | null = null;
        for await (const chunk of stream) {
          requestId = chunk.id || requestId;
          if (chunk.usage) {
            usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens, totalTokens: chunk.usage.total_tokens };
          }
          const choice = chunk.choices[0];
          if (choice?.finish_reason) finishReason = choice.finish_reason;
          const delta = choice?.delta?.content ?? '';
          if (delta !== '') yield { seq: ++seq, delta, reasoningDelta: '', finishReason: null, usage, requestId };
        }
        if (finishReason === null) throw protocolError('the compatible endpoint ended the stream without a finish reason', requestId);
        yield { seq: ++seq, delta: '', reasoningDelta: '', finishReason, usage, requestId };
      } catch (error) {
        throw toDashScopeError(error, requestId, callOptions.signal);
      }
    },
  };
}

function toCompatibleMessage(message: ChatMessage): OpenAI.Chat.ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'assistant':
      return { role: 'assistant', content: message.content };
    default:
      return { role: 'user', content: message.content };
  }
}

function toDashScopeError(error: unknown, requestId: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof DashScopeError) return error;
  if (error instanceof APIUserAbortError || signal?.aborted) return signal?.reason ?? error;
  if (error instanceof APIConnectionTimeoutError) {
    return new DashScopeError({ code: 'UPSTREAM_UNAVAILABLE', kind: 'timeout', retryable: true, message: 'the compatible endpoint did not answer in time', requestId, cause: error });
  }
  if (error instanceof APIConnectionError) return networkError(error, requestId, 'the compatible endpoint could not be reached');
  if (error instanceof APIError) {
    const body = (error.error ?? {}) as { code?: unknown; message?: unknown };
    return mapUpstreamError(
      {
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(typeof body.code === 'string' ? { code: body.code } : error.code ? { code: String(error.code) } : {}),
        ...(typeof body.message === 'string' ? { message: body.message } : {}),
        requestId: error.requestID ?? requestId,
        retryAfterSeconds: parseRetryAfter(error.headers?.get('retry-after')),
      },
      error,
    );
  }
  return networkError(error, requestId, 'the compatible endpoint failed');
}
