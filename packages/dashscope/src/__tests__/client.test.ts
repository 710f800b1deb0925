import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from 'undici';
import { createDashScopeClient, type CreateDashScopeClientOptions, type RetryEvent } from '../client.ts';
import { DashScopeError } from '../errors.ts';
import { isChinese, planAnswer, startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import type { ChatChunk, ChatRequest } from '../types.ts';

let sim: DashScopeSimulator;

beforeAll(async () => {
  // Fast tokens keep the suite quick; the abort/timeout tests slow them down per request with faults.
  sim = await startDashScopeSimulator({ tokenDelayMs: 2, firstTokenDelayMs: 2 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
});

function client(overrides: Partial<CreateDashScopeClientOptions> = {}) {
  return createDashScopeClient({
    baseUrl: sim.baseUrl,
    apiKey: sim.apiKey,
    workspace: 'llm-test-workspace',
    timeoutMs: 5_000,
    maxRetries: 2,
    retryBaseDelayMs: 5,
    ...overrides,
  });
}

const ASK: ChatRequest = {
  model: 'qwen-plus',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'How should I structure a TypeScript monorepo?' },
  ],
  seed: 7,
};

async function collect(iterable: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

async function failure(promise: Promise<unknown>): Promise<DashScopeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DashScopeError);
  return error as DashScopeError;
}

const chatRequests = () => sim.requests.filter((r) => r.endpoint === 'generation');

describe('streamChat against the simulator', () => {
  it('streams the whole answer with gap-free seq, cumulative usage and a final finish reason', async () => {
    const chunks = await collect(client().streamChat(ASK));
    const expected = planAnswer(
      { messages: ASK.messages, maxTokens: undefined, seed: 7, stop: [], thinking: false },
      20,
    );

    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i + 1));
    expect(chunks.filter((c) => c.delta !== '').length).toBeGreaterThanOrEqual(20);
    expect(chunks.map((c) => c.delta).join('')).toBe(expected.content);
    expect(chunks.slice(0, -1).every((c) => c.finishReason === null)).toBe(true);
    expect(chunks.at(-1)?.finishReason).toBe('stop');

    const outputs = chunks.map((c) => c.usage.outputTokens);
    expect(outputs).toEqual([...outputs].sort((a, b) => a - b));
    expect(chunks.every((c) => c.usage.inputTokens === expected.inputTokens)).toBe(true);
    expect(chunks.every((c) => c.usage.totalTokens === c.usage.inputTokens + c.usage.outputTokens)).toBe(true);
    expect(chunks.at(-1)?.usage).toEqual({
      inputTokens: expected.inputTokens,
      outputTokens: expected.outputTokens,
      totalTokens: expected.inputTokens + expected.outputTokens,
    });

    const [request] = chatRequests();
    expect(chatRequests()).toHaveLength(1);
    expect(new Set(chunks.map((c) => c.requestId))).toEqual(new Set([request?.requestId]));
    expect(request?.headers['x-dashscope-sse']).toBe('enable');
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(request?.headers['x-dashscope-workspace']).toBe('llm-test-workspace');
    expect(request?.headers.authorization).toBe(`Bearer ${sim.apiKey}`);
    expect(request?.body).toMatchObject({
      model: 'qwen-plus',
      input: { messages: ASK.messages },
      parameters: { result_format: 'message', incremental_output: true, seed: 7 },
    });
    expect(request?.outcome).toBe('completed');
  });

  it('ends with finish reason length when max_tokens is reached', async () => {
    const chunks = await collect(client().streamChat({ ...ASK, maxTokens: 12 }));
    expect(chunks.at(-1)?.finishReason).toBe('length');
    expect(chunks.at(-1)?.usage.outputTokens).toBeLessThanOrEqual(12);
    expect(chunks.at(-1)?.usage.outputTokens).toBeGreaterThan(0);
  });

  it('answers in Chinese when the last user message is Chinese', async () => {
    const chunks = await collect(client().streamChat({ model: 'qwen-turbo', messages: [{ role: 'user', content: '怎样写好单元测试？' }] }));
    const text = chunks.map((c) => c.delta).join('');
    expect(isChinese(text)).toBe(true);
    expect(text).toContain('单元测试');
  });

  it('reassembles text when the server cuts events inside multi-byte characters', async () => {
    const tiny = await startDashScopeSimulator({ tokenDelayMs: 1, writeChunkBytes: 5 });
    try {
      const request: ChatRequest = { model: 'qwen-plus', messages: [{ role: 'user', content: '请介绍一下杭州的西湖🌊' }] };
      const c = createDashScopeClient({ baseUrl: tiny.baseUrl, apiKey: tiny.apiKey, timeoutMs: 5_000 });
      const text = (await collect(c.streamChat(request))).map((x) => x.delta).join('');
      expect(text).toBe((await c.chat(request)).content);
      expect(text).toContain('西湖');
    } finally {
      await tiny.close();
    }
  });
});

/**
 * A pass-through to the simulator whose answers end `endAfterMs` after their last bytes (never, with null), as an
 * intermediary or a busy server may send them: the final event in one packet, the end of the body later. Counts the
 * TCP connections it accepted, the requests, and the closes of connections that carried a request.
 */
async function slowEndingProxy(endAfterMs: number | null) {
  const counts = { connections: 0, requests: 0, requestConnectionsClosed: 0 };
  const carried = new WeakSet<object>();
  const server: Server = createServer((req, res) => {
    counts.requests += 1;
    if (!carried.has(req.socket)) req.socket.once('close', () => (counts.requestConnectionsClosed += 1));
    carried.add(req.socket);
    const upstream = httpRequest(`${sim.url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(sim.url).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => res.write(chunk));
      answer.on('end', () => {
        if (endAfterMs !== null) setTimeout(() => res.end(), endAfterMs);
      });
    });
    req.pipe(upstream);
  });
  server.on('connection', () => (counts.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).finally(() => server.closeAllConnections()),
  };
}

describe('the connection after a finished stream', () => {
  it('goes back to the pool: answers one after another share one connection', async () => {
    const proxy = await slowEndingProxy(20);
    const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
    try {
      const c = client({ baseUrl: proxy.baseUrl, dispatcher: agent });
      const origin = new URL(proxy.baseUrl).origin;
      for (let i = 0; i < 3; i++) {
        expect((await collect(c.streamChat(ASK))).at(-1)?.finishReason).toBe('stop');
        // The stream is done at its final event; the end of the body is read in the background, then the
        // connection is free again.
        await vi.waitFor(() => {
          const pool = agent.stats[origin];
          expect(pool && 'free' in pool ? pool.free : undefined).toBe(1);
        });
      }
      expect(chatRequests()).toHaveLength(3);
      expect(proxy.counts).toEqual({ connections: 1, requests: 3, requestConnectionsClosed: 0 });
    } finally {
      await agent.close();
      await proxy.close();
    }
  });

  it('is closed when the body does not end soon after the final event', async () => {
    const proxy = await slowEndingProxy(null);
    const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
    try {
      const c = client({ baseUrl: proxy.baseUrl, dispatcher: agent });
      expect((await collect(c.streamChat(ASK))).at(-1)?.finishReason).toBe('stop');
      // Given up a second after the final event (RELEASE_MS), as an aborted stream is at once.
      await vi.waitFor(() => expect(proxy.counts).toMatchObject({ requests: 1, requestConnectionsClosed: 1 }), { timeout: 5_000 });
    } finally {
      await agent.close();
      await proxy.close();
    }
  });
});

describe('chat (non-streaming)', () => {
  it('returns the same answer and usage as the stream', async () => {
    const streamed = await collect(client().streamChat(ASK));
    const result = await client().chat(ASK);
    expect(result.content).toBe(streamed.map((c) => c.delta).join(''));
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual(streamed.at(-1)?.usage);
    expect(result.requestId).toBe(chatRequests()[1]?.requestId);
    expect(chatRequests()[1]?.headers['x-dashscope-sse']).toBeUndefined();
  });

  it('reports length when max_tokens is reached', async () => {
    const result = await client().chat({ ...ASK, maxTokens: 5 });
    expect(result.finishReason).toBe('length');
    expect(result.usage.outputTokens).toBeLessThanOrEqual(5);
  });
});

describe('error mapping', () => {
  it('wrong key → UPSTREAM_UNAVAILABLE (kind auth), not retried, request id kept', async () => {
    for (const call of [(c: ReturnType<typeof client>) => collect(c.streamChat(ASK)), (c: ReturnType<typeof client>) => c.chat(ASK)]) {
      sim.reset();
      const error = await failure(call(client({ apiKey: 'sk-wrong' })));
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'auth', status: 401, upstreamCode: 'InvalidApiKey', retryable: false });
      expect(error.requestId).toBe(chatRequests()[0]?.requestId);
      expect(chatRequests()).toHaveLength(1);
      expect(error.message).not.toContain('sk-wrong');
      expect(chatRequests()[0]?.headers.authorization).toBe('Bearer <redacted>');
    }
  });

  it('throttling → RATE_LIMITED with retryAfterSeconds when the upstream sends one', async () => {
    sim.setFaults([{ kind: 'throttle', code: 'Throttling.AllocationQuota', retryAfterSeconds: 0 }]);
    const error = await failure(collect(client({ maxRetries: 0 }).streamChat(ASK)));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', kind: 'throttled', status: 429, upstreamCode: 'Throttling.AllocationQuota', retryable: true, retryAfterSeconds: 0 });

    sim.setFaults([{ kind: 'throttle' }]);
    const plain = await failure(client({ maxRetries: 0 }).chat(ASK));
    expect(plain).toMatchObject({ code: 'RATE_LIMITED', upstreamCode: 'Throttling.RateQuota', retryAfterSeconds: undefined });
  });

  it('data inspection (trigger word) → CONTENT_REJECTED, from the SSE error event and from the JSON body', async () => {
    const request: ChatRequest = { model: 'qwen-plus', messages: [{ role: 'user', content: 'tell me about sim:inspection please' }] };
    const streamed = await failure(collect(client().streamChat(request)));
    expect(streamed).toMatchObject({ code: 'CONTENT_REJECTED', kind: 'content', status: 400, upstreamCode: 'DataInspectionFailed', retryable: false });
    expect(streamed.upstreamMessage).toBe('Input data may contain inappropriate content.');
    expect(streamed.requestId).toBe(chatRequests()[0]?.requestId);
    expect(chatRequests()[0]?.status).toBe(200); // docs/dashscope.md §3.1: validation failures on a stream come inside HTTP 200

    const direct = await failure(client().chat(request));
    expect(direct).toMatchObject({ code: 'CONTENT_REJECTED', status: 400 });
    expect(chatRequests()).toHaveLength(2);
  });

  it('bad parameters → BAD_USER_INPUT with the upstream message', async () => {
    const error = await failure(collect(client().streamChat({ ...ASK, temperature: 5 })));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', kind: 'invalid_request', upstreamCode: 'InvalidParameter', retryable: false });
    expect(error.upstreamMessage).toContain('Temperature');
    const direct = await failure(client().chat({ ...ASK, messages: [{ role: 'user', content: '' }] }));
    expect(direct).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, upstreamCode: 'InvalidParameter' });
  });

  it('5xx → UPSTREAM_UNAVAILABLE (kind server) once retries are exhausted', async () => {
    sim.setFaults([{ kind: 'serverError', status: 503 }]);
    const error = await failure(collect(client({ maxRetries: 1 }).streamChat(ASK)));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'server', status: 503, upstreamCode: 'ModelUnavailable', retryable: true });
    expect(chatRequests()).toHaveLength(2);
  });

  it('unknown model → UPSTREAM_UNAVAILABLE (kind not_found)', async () => {
    const error = await failure(client().chat({ ...ASK, model: 'gpt-4o' }));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'not_found', upstreamCode: 'ModelNotFound' });
  });

  it('connection refused → UPSTREAM_UNAVAILABLE (kind network)', async () => {
    const closed = await startDashScopeSimulator();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const error = await failure(client({ baseUrl, maxRetries: 0 }).chat(ASK));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'network', retryable: true });
  });
});

describe('retries', () => {
  it('retries a 429 before the first token and then streams normally', async () => {
    sim.setFaults([{ kind: 'throttle', times: 1 }]);
    const retries: RetryEvent[] = [];
    const chunks = await collect(client({ onRetry: (e) => retries.push(e) }).streamChat(ASK));
    expect(chunks.at(-1)?.finishReason).toBe('stop');
    expect(chunks[0]?.seq).toBe(1);
    expect(chatRequests().map((r) => r.status)).toEqual([429, 200]);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error.code).toBe('RATE_LIMITED');
  });

  it('hands a Retry-After longer than the backoff cap to the caller instead of waiting', async () => {
    sim.setFaults([{ kind: 'throttle', retryAfterSeconds: 30, times: 1 }]);
    const error = await failure(client({ maxRetries: 3, retryMaxDelayMs: 1_000 }).chat(ASK));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    expect(chatRequests()).toHaveLength(1);
  });

  it('retries 500s for chat() until one succeeds', async () => {
    sim.setFaults([{ kind: 'serverError', times: 2 }]);
    const result = await client({ maxRetries: 2 }).chat(ASK);
    expect(result.finishReason).toBe('stop');
    expect(chatRequests().map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('retries a stream that stays silent before its first event', async () => {
    sim.setFaults([{ kind: 'stall', afterDeltas: 0, times: 1 }]);
    const chunks = await collect(client({ timeoutMs: 300, maxRetries: 1 }).streamChat(ASK));
    expect(chunks.at(-1)?.finishReason).toBe('stop');
    expect(chatRequests()).toHaveLength(2);
    await vi.waitFor(() => expect(chatRequests()[0]?.outcome).toBe('client-closed'));
  });

  it('does not retry non-retryable errors', async () => {
    sim.setFaults([{ kind: 'invalidParameter', framing: 'http' }]);
    await failure(client({ maxRetries: 3 }).chat(ASK));
    expect(chatRequests()).toHaveLength(1);
  });

  it('never retries once a token was yielded: a mid-stream error surfaces after the partial text', async () => {
    sim.setFaults([{ kind: 'serverError', afterDeltas: 4 }]);
    const seen: ChatChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of client({ maxRetries: 3 }).streamChat(ASK)) seen.push(chunk);
      })(),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'server', retryable: true, upstreamCode: 'InternalError', status: 500 });
    expect(seen).toHaveLength(4);
    expect(chatRequests()).toHaveLength(1);
    expect(error.requestId).toBe(chatRequests()[0]?.requestId);
  });

  it('surfaces mid-stream moderation as CONTENT_REJECTED after the partial text', async () => {
    const seen: ChatChunk[] = [];
    const error = await failure(
      (async () => {
        const request: ChatRequest = { model: 'qwen-plus', messages: [{ role: 'user', content: '写一首诗 模拟输出审核失败' }] };
        for await (const chunk of client().streamChat(request)) seen.push(chunk);
      })(),
    );
    expect(error).toMatchObject({ code: 'CONTENT_REJECTED', upstreamMessage: 'Output data may contain inappropriate content.' });
    expect(seen.length).toBe(3);
    expect(chatRequests()).toHaveLength(1);
  });

  it('does not retry when the connection drops after the first token', async () => {
    sim.setFaults([{ kind: 'disconnect', afterDeltas: 2 }]);
    const seen: ChatChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of client({ maxRetries: 3 }).streamChat(ASK)) seen.push(chunk);
      })(),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'network' });
    expect(seen).toHaveLength(2);
    expect(chatRequests()).toHaveLength(1);
  });
});

describe('abort and timeouts', () => {
  // Slow, long answers so that the stream is certainly still running when we cut it.
  const LONG: ChatRequest = { ...ASK, messages: [{ role: 'user', content: 'Explain event loops in depth.' }] };

  async function slowSim(): Promise<DashScopeSimulator> {
    return startDashScopeSimulator({ tokenDelayMs: 25, minDeltas: 200 });
  }

  it('an AbortSignal cancels the upstream request at once and rejects with its reason', async () => {
    const s = await slowSim();
    try {
      const controller = new AbortController();
      const c = createDashScopeClient({ baseUrl: s.baseUrl, apiKey: s.apiKey });
      const seen: ChatChunk[] = [];
      const reason = new Error('user pressed stop');
      const error = await (async () => {
        for await (const chunk of c.streamChat(LONG, { signal: controller.signal })) {
          seen.push(chunk);
          if (seen.length === 3) controller.abort(reason);
        }
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBe(reason);
      expect(seen).toHaveLength(3);
      await vi.waitFor(() => expect(s.requests[0]?.outcome).toBe('client-closed'));
      expect(s.requests[0]?.deltasSent).toBeLessThan(50);
    } finally {
      await s.close();
    }
  });

  it('aborting while waiting for the next event rejects promptly', async () => {
    const s = await slowSim();
    try {
      const controller = new AbortController();
      const c = createDashScopeClient({ baseUrl: s.baseUrl, apiKey: s.apiKey });
      const iterator = c.streamChat(LONG, { signal: controller.signal, headers: { 'x-simulator-fault': 'stall;afterDeltas=1' } });
      expect((await iterator.next()).done).toBe(false);
      const pending = iterator.next();
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await vi.waitFor(() => expect(s.requests[0]?.outcome).toBe('client-closed'));
    } finally {
      await s.close();
    }
  });

  it('leaving the loop early (iterator return) closes the upstream connection', async () => {
    const s = await slowSim();
    try {
      const c = createDashScopeClient({ baseUrl: s.baseUrl, apiKey: s.apiKey });
      let count = 0;
      for await (const chunk of c.streamChat(LONG)) {
        count = chunk.seq;
        if (count === 2) break;
      }
      expect(count).toBe(2);
      await vi.waitFor(() => expect(s.requests[0]?.outcome).toBe('client-closed'));
      expect(s.requests[0]?.deltasSent).toBeLessThan(50);
    } finally {
      await s.close();
    }
  });

  it('return() while a next() is pending ends both at once', async () => {
    const s = await slowSim();
    try {
      const c = createDashScopeClient({ baseUrl: s.baseUrl, apiKey: s.apiKey, timeoutMs: 60_000 });
      const iterator = c.streamChat(LONG, { headers: { 'x-simulator-fault': 'stall;afterDeltas=1' } });
      await iterator.next();
      const pending = iterator.next();
      const started = Date.now();
      await iterator.return?.();
      await expect(pending).resolves.toEqual({ done: true, value: undefined });
      expect(Date.now() - started).toBeLessThan(5_000);
      await vi.waitFor(() => expect(s.requests[0]?.outcome).toBe('client-closed'));
    } finally {
      await s.close();
    }
  });

  it('an already aborted signal fails without sending anything', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect(client().streamChat(ASK, { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
    await expect(client().chat(ASK, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(chatRequests()).toHaveLength(0);
  });

  it('times out waiting for the first byte', async () => {
    const error = await failure(client({ timeoutMs: 200, maxRetries: 0 }).chat(ASK, { headers: { 'x-simulator-fault': 'slowFirstByte;ms=3000' } }));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'timeout', retryable: true });
    await vi.waitFor(() => expect(chatRequests()[0]?.outcome).toBe('client-closed'));
  });

  it('times out when the stream goes idle after the first token, without retrying', async () => {
    sim.setFaults([{ kind: 'stall', afterDeltas: 2 }]);
    const seen: ChatChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of client({ timeoutMs: 300, maxRetries: 2 }).streamChat(ASK)) seen.push(chunk);
      })(),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', kind: 'timeout' });
    expect(error.requestId).toBe(chatRequests()[0]?.requestId);
    expect(seen).toHaveLength(2);
    expect(chatRequests()).toHaveLength(1);
    await vi.waitFor(() => expect(chatRequests()[0]?.outcome).toBe('client-closed'));
  });

  it('does not count a slow consumer as upstream silence', async () => {
    const chunks: ChatChunk[] = [];
    for await (const chunk of client({ timeoutMs: 150 }).streamChat({ ...ASK, maxTokens: 8 })) {
      chunks.push(chunk);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(chunks.at(-1)?.finishReason).toBe('length');
  });
});

describe('a consumer slower than the stream', () => {
  it('gets every chunk in order once the buffered body was paused and resumed', async () => {
    // 2 ms between tokens and 15 ms per chunk here: dozens of events wait in the body, more than it buffers before
    // pausing the socket, so the stream is paused and resumed several times.
    const chunks: ChatChunk[] = [];
    for await (const chunk of client().streamChat(ASK)) {
      chunks.push(chunk);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const expected = planAnswer({ messages: ASK.messages, maxTokens: undefined, seed: 7, stop: [], thinking: false }, 20);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i + 1));
    expect(chunks.map((c) => c.delta).join('')).toBe(expected.content);
    expect(chunks.at(-1)?.finishReason).toBe('stop');
  });
});

describe('options', () => {
  it('names the bad option', () => {
    expect(() => createDashScopeClient({ baseUrl: 'not a url', apiKey: 'k' })).toThrow(/baseUrl/);
    expect(() => createDashScopeClient({ baseUrl: 'http://x', apiKey: '' })).toThrow(/apiKey/);
    expect(() => createDashScopeClient({ baseUrl: 'http://x', apiKey: 'k', maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => createDashScopeClient({ baseUrl: 'http://x', apiKey: 'k', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createDashScopeClient({ baseUrl: 'http://x', apiKey: 'k', dispatcher: {} as never })).toThrow(/dispatcher/);
  });
});
