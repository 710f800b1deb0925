import type { Dispatcher } from 'undici';

/** Public types of the DashScope client. Wire (snake_case) shapes live in wire.ts and never leak out. */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  /** DashScope model id, e.g. `qwen-plus`. Comes from our model catalogue; never hard-coded (docs/dashscope.md §7). */
  model: string;
  messages: readonly ChatMessage[];
  /** Output cap; reaching it ends the answer with finish reason `length`. */
  maxTokens?: number;
  /** `[0, 2)`. */
  temperature?: number;
  /** `(0, 1]`. */
  topP?: number;
  seed?: number;
  enableSearch?: boolean;
  stop?: string | readonly string[];
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** `stop`, `length` or `tool_calls`; other strings DashScope may add later are passed through unchanged. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | (string & Record<never, never>);

export interface ChatChunk {
  /** 1-based, gap-free position of this chunk in the answer. */
  seq: number;
  /** New answer text (may be `''` on the final chunk). */
  delta: string;
  /** New reasoning text from thinking models; `''` for others. */
  reasoningDelta: string;
  /** `null` until the final chunk. */
  finishReason: FinishReason | null;
  /** Cumulative usage so far; the final chunk's usage is what DashScope bills (docs/dashscope.md §3). */
  usage: TokenUsage;
  requestId: string;
}

export interface ChatResult {
  content: string;
  reasoningContent: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  requestId: string;
}

export interface CallOptions {
  /** Aborting cancels the HTTP request at once; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Extra request headers for this call (e.g. the simulator's `x-simulator-fault` in tests). */
  headers?: Readonly<Record<string, string>>;
  /**
   * The chat provider of `request.model` when the caller already knows it, so that a router over several providers
   * need not look it up before sending (the DashScope client itself ignores it).
   */
  provider?: string;
}

export interface DashScopeClientOptions {
  /** Native API base, e.g. `https://dashscope.aliyuncs.com/api/v1` (docs/dashscope.md §1) or the simulator's url. */
  baseUrl: string;
  /** `sk-…`; keys are per region (docs/dashscope.md §1). */
  apiKey: string;
  /** Sent as `X-DashScope-WorkSpace` when set. */
  workspace?: string;
  /**
   * Longest wait for the response headers, and then for each next SSE event (or the rest of a non-streaming
   * body). A streaming answer may take minutes overall; only silence counts. Default 60 000.
   */
  timeoutMs?: number;
  /** Retries after the first attempt, for retryable failures and only before any output was yielded. Default 2. */
  maxRetries?: number;
  /** First backoff step; doubles per retry, full jitter. Default 500. */
  retryBaseDelayMs?: number;
  /** Upper bound of one backoff sleep. Default 8 000. */
  retryMaxDelayMs?: number;
  /** Headers added to every request. */
  headers?: Readonly<Record<string, string>>;
  /**
   * The undici connection pool requests go through. Default: an `Agent` of the client's own (keep-alive, no undici
   * timeouts: `timeoutMs` governs).
   */
  dispatcher?: Dispatcher;
}

export interface DashScopeClient {
  /**
   * Streams an answer. Nothing is sent until the first `next()`. Leaving the loop early (`break`, `return()`)
   * aborts the upstream request immediately. Fails with {@link DashScopeError}, or with `signal.reason` on abort.
   */
  streamChat(request: ChatRequest, options?: CallOptions): AsyncIterableIterator<ChatChunk>;
  /** One-shot answer (no SSE). */
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult>;
}
