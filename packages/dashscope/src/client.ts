import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { abortOnReturn } from './abort-on-return.ts';
import { validateClientOptions, withClientDefaults, type ResolvedClientOptions } from './client-options.ts';
import { mapUpstreamError, networkError, parseRetryAfter, timeoutError } from './error-mapping.ts';
import { DashScopeError } from './errors.ts';
import { IdleTimeout } from './idle-timeout.ts';
import { backoffDelayMs, sleep } from './retry.ts';
import { parseSseText, SseParser, type SseEvent } from './sse-parser.ts';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResult,
  DashScopeClient,
  DashScopeClientOptions,
} from './types.ts';
import { buildGenerationBody, parseErrorEnvelope, parseGenerationOutput, parseJson, type GenerationOutput } from './wire.ts';

const USER_AGENT = 'firefly-dashscope/0.1.0';
const GENERATION_PATH = '/services/aigc/text-generation/generation';

/** What the client reports before sleeping for a retry, so the caller can log it with the upstream request id. */
export interface RetryEvent {
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  error: DashScopeError;
}

export interface CreateDashScopeClientOptions extends DashScopeClientOptions {
  /** Called before each retry sleep. Must not throw. */
  onRetry?: (event: RetryEvent) => void;
}

interface ResolvedCall {
  timeoutMs: number;
  headers: Readonly<Record<string, string>>;
  signal: AbortSignal | undefined;
}

/**
 * Creates a client for DashScope's native text-generation API (docs/dashscope.md §2–§3).
 *
 * Retries (exponential backoff, full jitter) cover retryable failures — throttling, 5xx, network, timeouts — but
 * only until the first chunk has been handed out: a retry after that would make the user read text twice.
 */
export function createDashScopeClient(options: CreateDashScopeClientOptions): DashScopeClient {
  const config = validateClientOptions(withClientDefaults(options));
  const onRetry = options.onRetry;
  const base = new URL(config.baseUrl);
  const target: Target = { origin: base.origin, path: `${base.pathname.replace(/\/+$/, '')}${GENERATION_PATH}` };

  function resolveCall(call: CallOptions): ResolvedCall {
    const timeoutMs = call.timeoutMs ?? config.timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`dashscope: timeoutMs must be > 0, got ${timeoutMs}`);
    return { timeoutMs, headers: call.headers ?? {}, signal: call.signal };
  }

  async function backoff(retry: number, error: DashScopeError, signal: AbortSignal | undefined): Promise<void> {
    const delayMs = backoffDelayMs(retry, config.retryBaseDelayMs, config.retryMaxDelayMs, error.retryAfterSeconds);
    try {
      onRetry?.({ retry: retry + 1, delayMs, error });
    } catch {
      // A failing log hook must not change the outcome of the call.
    }
    await sleep(delayMs, signal);
  }

  function canRetry(error: unknown, retry: number): error is DashScopeError {
    if (!(error instanceof DashScopeError) || !error.retryable || retry >= config.maxRetries) return false;
    // A Retry-After longer than we would ever back off is better handed to the user (RATE_LIMITED carries it)
    // than spent holding the request open.
    return error.retryAfterSeconds === undefined || error.retryAfterSeconds * 1000 <= config.retryMaxDelayMs;
  }

  /**
   * The whole streaming call in one generator (attempts, retries, SSE parsing, chunk numbering): every layer of
   * async generator between the socket and the consumer costs a few promises per token.
   */
  async function* streamWithRetries(request: ChatRequest, call: ResolvedCall): AsyncGenerator<ChatChunk, void, undefined> {
    let seq = 0;
    for (let retry = 0; ; retry++) {
      const attempt = startAttempt(call);
      /** The final event was read and the rest of the body is left to arrive, its connection to be reused. */
      let released = false;
      try {
        const response = await postGeneration(config, target, request, call, attempt, true);
        if (!isEventStream(response.headers)) {
          // Defensive: an intermediary may answer JSON to a streaming request. Either an error envelope or a whole
          // answer; the latter becomes a single final event.
          const payload = parseJson(await response.body.text(), attempt.requestId);
          const envelope = parseErrorEnvelope(payload);
          if (envelope.code && !hasOutput(payload)) {
            throw mapUpstreamError({ code: envelope.code, message: envelope.message, requestId: envelope.requestId ?? attempt.requestId });
          }
          const out = parseGenerationOutput(payload, attempt.requestId);
          if (isEmpty(out)) return;
          seq += 1;
          yield toChunk(out, seq);
          return;
        }
        const parser = new SseParser();
        attempt.idle.arm('next event');
        let finished = false;
        const body = new BodyChunks(response.body);
        for (let bytes = body.take() ?? (await body.next()); bytes !== undefined; bytes = body.take() ?? (await body.next())) {
          for (const event of parser.feed(bytes)) {
            const out = readStreamEvent(event, attempt.requestId);
            // Empty non-final events exist (docs/dashscope.md §3: older streams send an extra empty "null" event).
            // Skipping them keeps "something was yielded" equal to "the user saw output", which is what the
            // retry rule below is about; their cumulative usage reappears in the next event anyway.
            if (out === undefined || isEmpty(out)) continue;
            attempt.idle.pause();
            seq += 1;
            yield toChunk(out, seq);
            // Events already buffered from the same read must not leak out after an abort.
            attempt.signal.throwIfAborted();
            if (out.finishReason !== null) {
              finished = true;
              break;
            }
            attempt.idle.arm('next event');
          }
          if (finished) break;
        }
        if (finished) {
          body.release();
          released = true;
          return;
        }
        attempt.idle.pause();
        for (const event of parser.end()) {
          const out = readStreamEvent(event, attempt.requestId);
          if (out === undefined || isEmpty(out)) continue;
          seq += 1;
          yield toChunk(out, seq);
          if (out.finishReason !== null) return;
        }
        // Native mode has no [DONE]: the final event (finish_reason set) is the only proof of completion (§3).
        throw networkError(undefined, attempt.requestId, 'DashScope closed the stream before the final event');
      } catch (error) {
        const settled = settleAttemptError(error, call, attempt);
        if (seq > 0 || !canRetry(settled, retry)) throw settled;
        await backoff(retry, settled, call.signal);
      } finally {
        attempt.idle.pause();
        // Frees the connection when we stop before DashScope closes the stream (consumer left, failure), closing it.
        if (!released) attempt.controller.abort();
      }
    }
  }

  return {
    streamChat(request: ChatRequest, callOptions: CallOptions = {}): AsyncIterableIterator<ChatChunk> {
      const call = resolveCall(callOptions);
      return abortOnReturn((signal) => streamWithRetries(request, { ...call, signal }), call.signal);
    },

    async chat(request: ChatRequest, callOptions: CallOptions = {}): Promise<ChatResult> {
      const call = resolveCall(callOptions);
      for (let retry = 0; ; retry++) {
        try {
          return await chatAttempt(config, target, request, call);
        } catch (error) {
          if (!canRetry(error, retry)) throw error;
          await backoff(retry, error, call.signal);
        }
      }
    },
  };
}

function requestHeaders(config: ResolvedClientOptions, call: ResolvedCall, stream: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    ...config.headers,
    ...call.headers,
    Authorization: `Bearer ${config.apiKey}`,
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
  };
  if (config.workspace !== undefined) headers['X-DashScope-WorkSpace'] = config.workspace;
  if (stream) {
    // X-DashScope-SSE is what switches the native API to SSE; the doc and the SDK send Accept as well (§1).
    headers.Accept = 'text/event-stream';
    headers['X-DashScope-SSE'] = 'enable';
    // A compressing hop may sit on events until its buffer fills; tokens must flow as they are produced.
    headers['Accept-Encoding'] = 'identity';
  } else {
    headers.Accept = 'application/json';
  }
  return headers;
}

interface Attempt {
  controller: AbortController;
  idle: IdleTimeout;
  signal: AbortSignal;
  requestId: string | undefined;
}

function startAttempt(call: ResolvedCall): Attempt {
  const controller = new AbortController();
  return {
    controller,
    idle: new IdleTimeout(call.timeoutMs, controller),
    signal: call.signal ? AbortSignal.any([call.signal, controller.signal]) : controller.signal,
    requestId: undefined,
  };
}

/** Turns whatever an attempt threw into what the caller should see. The caller's own abort always wins. */
function settleAttemptError(error: unknown, call: ResolvedCall, attempt: Attempt): unknown {
  if (call.signal?.aborted) return call.signal.reason;
  if (attempt.idle.firedIn) return timeoutError(attempt.idle.ms, attempt.idle.firedIn, attempt.requestId);
  if (error instanceof DashScopeError) return error;
  return networkError(error, attempt.requestId);
}

/** Where generation requests go: the base URL's origin and path (one URL parse per client, not per request). */
interface Target {
  origin: string;
  path: string;
}

interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
}

/**
 * Sends one generation request of an attempt and checks its status; the attempt's idle timer covers the wait for
 * the first byte and then for the body. Non-200 answers become typed errors.
 *
 * undici's own `request` (a Node stream body), not `fetch`: fetch hands every chunk through WHATWG streams and
 * builds a Response/Headers per call, which a process carrying thousands of streams pays for on every token.
 */
async function postGeneration(
  config: ResolvedClientOptions,
  target: Target,
  request: ChatRequest,
  call: ResolvedCall,
  attempt: Attempt,
  stream: boolean,
): Promise<UpstreamResponse> {
  attempt.idle.arm('first byte');
  const response = await config.dispatcher.request({
    origin: target.origin,
    path: target.path,
    method: 'POST',
    headers: requestHeaders(config, call, stream),
    body: JSON.stringify(buildGenerationBody(request, stream)),
    signal: attempt.signal,
  });
  attempt.requestId = header(response.headers, 'x-request-id');
  attempt.idle.arm('response body');
  const answer: UpstreamResponse = { status: response.statusCode, headers: response.headers, body: response.body };
  if (answer.status !== 200) throw await errorFromResponse(answer, attempt.requestId, attempt.signal);
  return answer;
}

/** What may still follow a stream's final event before its connection is given up rather than reused. */
const RELEASE_MAX_BYTES = 16 * 1024;
const RELEASE_MS = 1_000;

/**
 * The chunks of a response body as they arrive, taken without a promise while some are buffered (Node's stream
 * async iterator costs several promises and `read()` calls per chunk; an SSE body is one small chunk per token).
 * Backpressure: the body is paused while more than a few chunks wait, and resumed when they were taken.
 */
class BodyChunks {
  readonly #body: Dispatcher.ResponseData['body'];
  readonly #queue: Buffer[] = [];
  #head = 0;
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  readonly #onData = (chunk: Buffer): void => {
    this.#queue.push(chunk);
    if (this.#queue.length - this.#head > 16) this.#body.pause();
    this.#notify();
  };

  constructor(body: Dispatcher.ResponseData['body']) {
    this.#body = body;
    body.on('data', this.#onData);
    body.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    body.on('error', (error: unknown) => {
      this.#failure ??= error;
      this.#notify();
    });
    body.on('close', () => {
      // Destroyed without 'end' (aborted): whatever error it had was reported above; otherwise it ended early.
      this.#ended = true;
      this.#notify();
    });
  }

  /** A buffered chunk, or undefined when none is (see {@link next}). Throws the body's error once it is drained. */
  take(): Buffer | undefined {
    if (this.#head < this.#queue.length) {
      const chunk = this.#queue[this.#head]!;
      this.#head += 1;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
        if (this.#body.isPaused()) this.#body.resume();
      }
      return chunk;
    }
    if (this.#failure !== undefined) throw this.#failure;
    return undefined;
  }

  /**
   * After the final event: the rest of the body (usually only the end of the chunked encoding, already on its way)
   * is read and dropped in the background, so that undici puts the connection back in its pool and the next answer
   * starts on it at once. Aborting the request here instead, as before, closed the connection: every answer then
   * paid a new TCP (and, to DashScope, TLS) handshake before its request could leave. A body that goes on for more
   * than {@link RELEASE_MAX_BYTES} or {@link RELEASE_MS} is destroyed, closing the connection as before.
   */
  release(): void {
    this.#body.off('data', this.#onData);
    this.#queue.length = 0;
    this.#head = 0;
    this.#body.dump({ limit: RELEASE_MAX_BYTES, signal: AbortSignal.timeout(RELEASE_MS) }).catch(() => undefined);
  }

  /** Waits for the next chunk; undefined when the body ended. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const chunk = this.take();
      if (chunk !== undefined) return chunk;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isEmpty(out: GenerationOutput): boolean {
  return out.content === '' && out.reasoningContent === '' && out.finishReason === null;
}

function toChunk(out: GenerationOutput, seq: number): ChatChunk {
  return { seq, delta: out.content, reasoningDelta: out.reasoningContent, finishReason: out.finishReason, usage: out.usage, requestId: out.requestId ?? '' };
}

/** A `result` event → output; `event:error` → typed error (docs/dashscope.md §3.1); anything else is ignored. */
function readStreamEvent(event: SseEvent, requestId: string | undefined): GenerationOutput | undefined {
  if (event.event === 'error') {
    let payload: unknown;
    try {
      payload = JSON.parse(event.data);
    } catch {
      payload = undefined;
    }
    const envelope = parseErrorEnvelope(payload);
    throw mapUpstreamError({
      // §3.1: the status lives in a comment line; the SDK assumes 400 when it is missing.
      status: event.httpStatus ?? 400,
      code: envelope.code,
      message: envelope.message ?? (payload === undefined ? event.data : undefined),
      requestId: envelope.requestId ?? requestId,
    });
  }
  if (event.event !== 'result' && event.event !== 'message') return undefined;
  return parseGenerationOutput(parseJson(event.data, requestId), requestId);
}

async function chatAttempt(
  config: ResolvedClientOptions,
  target: Target,
  request: ChatRequest,
  call: ResolvedCall,
): Promise<ChatResult> {
  const attempt = startAttempt(call);
  try {
    const response = await postGeneration(config, target, request, call, attempt, false);
    const payload = parseJson(await response.body.text(), attempt.requestId);
    const envelope = parseErrorEnvelope(payload);
    if (envelope.code && !hasOutput(payload)) {
      throw mapUpstreamError({ code: envelope.code, message: envelope.message, requestId: envelope.requestId ?? attempt.requestId });
    }
    const out = parseGenerationOutput(payload, attempt.requestId);
    return {
      content: out.content,
      reasoningContent: out.reasoningContent,
      // A non-streaming answer is complete by definition; DashScope always names the reason (§2.1).
      finishReason: out.finishReason ?? 'stop',
      usage: out.usage,
      requestId: out.requestId ?? '',
    };
  } catch (error) {
    throw settleAttemptError(error, call, attempt);
  } finally {
    attempt.idle.pause();
    attempt.controller.abort();
  }
}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  return (header(headers, 'content-type') ?? '').toLowerCase().includes('text/event-stream');
}

function hasOutput(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'output' in payload;
}

/**
 * Error for a non-200 answer. Auth and gateway failures come as JSON; a streaming request may get an SSE-framed
 * body instead, whose first `data:` is the envelope (docs/dashscope.md §3.1).
 */
async function errorFromResponse(
  response: UpstreamResponse,
  headerRequestId: string | undefined,
  signal: AbortSignal,
): Promise<DashScopeError> {
  const retryAfterSeconds = parseRetryAfter(header(response.headers, 'retry-after') ?? null);
  let text = '';
  try {
    text = await response.body.text();
  } catch (cause) {
    // Timeouts and aborts are settled by the caller; any other unreadable body still classifies by status.
    if (signal.aborted) throw cause;
  }
  let payload: unknown;
  if (isEventStream(response.headers)) {
    const first = parseSseText(text)[0];
    payload = first ? safeJson(first.data) : undefined;
  } else {
    payload = safeJson(text);
  }
  const envelope = parseErrorEnvelope(payload);
  return mapUpstreamError({
    status: response.status,
    code: envelope.code,
    message: envelope.message,
    requestId: envelope.requestId ?? headerRequestId,
    retryAfterSeconds,
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
