import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../faults.ts';
import { composeReply, isChinese } from '../reply.ts';
import { startDashScopeSimulator } from '../simulator.ts';
import { planAnswer } from '../answer-plan.ts';
import { estimatePromptTokens, estimateTokens, splitUnits, tenths } from '../tokens.ts';
import type { DashScopeSimulator } from '../types.ts';

let sim: DashScopeSimulator;

beforeAll(async () => {
  sim = await startDashScopeSimulator({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

/**
 * The events of a whole SSE body, read strictly as the simulator frames them (`id:`/`event:`/`:HTTP_STATUS/n`/
 * `data:` lines, a blank line after each event): the client's tolerant parser would hide a framing mistake.
 */
function parseSseText(text: string): { id: string | undefined; event: string; httpStatus: number | undefined; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = { id: undefined as string | undefined, event: 'message', httpStatus: undefined as number | undefined, data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith(':HTTP_STATUS/')) event.httpStatus = Number(line.slice(':HTTP_STATUS/'.length));
        else if (line.startsWith('id:')) event.id = line.slice('id:'.length);
        else if (line.startsWith('event:')) event.event = line.slice('event:'.length);
        else if (line.startsWith('data:')) event.data = line.slice('data:'.length).replace(/^ /, '');
      }
      return event;
    });
}

const GENERATION = '/api/v1/services/aigc/text-generation/generation';

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const nativeBody = (content: string, parameters: Record<string, unknown> = {}) => ({
  model: 'qwen-plus',
  input: { messages: [{ role: 'user', content }] },
  parameters: { result_format: 'message', incremental_output: true, ...parameters },
});

interface NativeEvent {
  output: { choices: { message: { content: string; role: string }; finish_reason: string }[] };
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  request_id: string;
}

describe('token estimate', () => {
  it('counts CJK characters as 1, words as 1.3, symbols as 1, whitespace as 0, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('你好')).toBe(2);
    expect(estimateTokens('hello')).toBe(2); // 1.3
    expect(estimateTokens('hello world again')).toBe(4); // 3.9
    expect(estimateTokens('What is 1+1?')).toBe(8); // 4 words 5.2 + 2 symbols
    expect(estimateTokens('word '.repeat(10))).toBe(13); // exact, no float drift
    expect(estimatePromptTokens(['你好', 'hi'])).toBe(2 + 3 + 2 + 3);
  });

  it('splits text into units that join back exactly and never cut a word', () => {
    for (const text of ['  Hello, world!  ', '你好，世界。Hello 世界', 'a\n\nb', '🔥 emoji ok']) {
      expect(splitUnits(text).join('')).toBe(text);
    }
    expect(splitUnits('Hello, big world')).toEqual(['Hello', ',', ' big', ' world']);
  });

  it('counts ASCII and other scripts alike whether counted whole or unit by unit, as usage after every delta shows', () => {
    // Mixed scripts, combining marks, a non-ASCII space, digits and underscores inside words, emoji.
    const text = 'Ca\u0301fe\u00a0naïve_2 日本語テキスト, 한국어! x+y=z\t🔥 ok_ok 42';
    expect(estimateTokens(text)).toBe(Math.ceil(splitUnits(text).reduce((sum, unit) => sum + tenths(unit), 0) / 10));
    expect(estimateTokens('snake_case_9 x')).toBe(3); // two words 2.6, rounded up
    expect(estimateTokens('a\u00a0b')).toBe(3); // the no-break space separates two words
    const plan = planAnswer({ messages: [{ role: 'user', content: text }], maxTokens: undefined, seed: 3, stop: [], thinking: true }, 60);
    let reasoning = '';
    let content = '';
    for (const delta of plan.deltas) {
      reasoning += delta.reasoning;
      content += delta.content;
      expect(delta.outputTokens).toBe(estimateTokens(reasoning) + (content === '' ? 0 : estimateTokens(content)));
    }
    expect(plan.outputTokens).toBe(estimateTokens(plan.reasoning) + estimateTokens(plan.content));
    const capped = planAnswer({ messages: [{ role: 'user', content: text }], maxTokens: 25, seed: 3, stop: [], thinking: false }, 60);
    expect(capped.finishReason).toBe('length');
    expect(estimateTokens(capped.content)).toBeLessThanOrEqual(25);
  });
});

describe('replies', () => {
  it('are deterministic, built from the prompt, and Chinese for Chinese prompts', () => {
    const english = composeReply([{ role: 'user', content: 'How do I tune PostgreSQL indexes?' }]);
    expect(english).toBe(composeReply([{ role: 'user', content: 'How do I tune PostgreSQL indexes?' }]));
    expect(english).toContain('How do I tune PostgreSQL indexes');
    expect(english).toContain('postgresql');
    expect(isChinese(english)).toBe(false);
    const chinese = composeReply([{ role: 'user', content: '如何提高睡眠质量？' }]);
    expect(isChinese(chinese)).toBe(true);
    expect(chinese).toContain('提高睡眠质量');
    expect(composeReply([{ role: 'user', content: 'x' }], { minUnits: 400 }).length).toBeGreaterThan(1000);
  });
});

describe('native SSE framing (docs/dashscope.md §3)', () => {
  it('frames every event exactly: id from 1, event:result, status comment, one-line data, blank line', async () => {
    const res = await post(GENERATION, nativeBody('Describe the SSE framing.'), { 'x-dashscope-sse': 'enable' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream;charset=UTF-8');
    const requestId = res.headers.get('x-request-id');
    const text = await res.text();

    const blocks = text.split('\n\n');
    expect(blocks.pop()).toBe(''); // the stream ends right after the last blank line, no [DONE]
    blocks.forEach((block, i) => {
      expect(block).toMatch(new RegExp(`^id:${i + 1}\\nevent:result\\n:HTTP_STATUS/200\\ndata:\\{[^\\n]*\\}$`));
    });
    const events = parseSseText(text).map((e) => JSON.parse(e.data) as NativeEvent);
    expect(events.length).toBeGreaterThanOrEqual(21); // ≥ 20 deltas + the final event
    expect(events.every((e) => e.request_id === requestId)).toBe(true);
    expect(events.slice(0, -1).every((e) => e.output.choices[0]?.finish_reason === 'null')).toBe(true);
    const last = events.at(-1);
    expect(last?.output.choices[0]).toEqual({ message: { content: '', role: 'assistant' }, finish_reason: 'stop' });
    expect(events.every((e) => e.usage.total_tokens === e.usage.input_tokens + e.usage.output_tokens)).toBe(true);
    const fullText = events.map((e) => e.output.choices[0]?.message.content).join('');
    expect(last?.usage.output_tokens).toBe(estimateTokens(fullText));
  });

  it('sends the whole text so far in every event with incremental_output false', async () => {
    const res = await post(GENERATION, nativeBody('Cumulative please.', { incremental_output: false }), { 'x-dashscope-sse': 'enable' });
    const contents = parseSseText(await res.text()).map((e) => (JSON.parse(e.data) as NativeEvent).output.choices[0]?.message.content ?? '');
    for (let i = 1; i < contents.length; i++) expect(contents[i]?.startsWith(contents[i - 1] ?? '')).toBe(true);
    expect(contents.at(-1)).toBe(contents.at(-2));
  });

  it('keeps result_format text for the legacy shape', async () => {
    const res = await post(GENERATION, { model: 'qwen-turbo', input: { prompt: 'hello there' }, parameters: {} });
    const body = (await res.json()) as { output: { text: string; finish_reason: string } };
    expect(body.output.finish_reason).toBe('stop');
    expect(body.output.text.length).toBeGreaterThan(0);
  });

  it('sends a mid-stream error as the next event with status 400', async () => {
    const res = await post(GENERATION, nativeBody('hi'), { 'x-dashscope-sse': 'enable', 'x-simulator-fault': 'midStreamError;afterDeltas=2' });
    const events = parseSseText(await res.text());
    expect(events.map((e) => [e.id, e.event, e.httpStatus])).toEqual([
      ['1', 'result', 200],
      ['2', 'result', 200],
      ['3', 'error', 400],
    ]);
    expect(JSON.parse(events[2]?.data ?? '{}')).toMatchObject({ code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.' });
  });
});

describe('development defaults (docs/api-guide.md)', () => {
  it('answers even a one-word prompt with at least 20 deltas, about 30 ms apart', async () => {
    const defaults = await startDashScopeSimulator();
    try {
      const started = Date.now();
      const res = await fetch(`${defaults.baseUrl}/services/aigc/text-generation/generation`, {
        method: 'POST',
        headers: { authorization: `Bearer ${defaults.apiKey}`, 'content-type': 'application/json', 'x-dashscope-sse': 'enable' },
        body: JSON.stringify(nativeBody('hi')),
      });
      const events = parseSseText(await res.text());
      const elapsed = Date.now() - started;
      const deltas = events.filter((e) => ((JSON.parse(e.data) as NativeEvent).output.choices[0]?.message.content ?? '') !== '');
      expect(deltas.length).toBeGreaterThanOrEqual(20);
      // Timers never fire early, so this lower bound is safe; no upper bound on a shared CI machine.
      expect(elapsed).toBeGreaterThanOrEqual(20 * 30 * 0.9);
    } finally {
      await defaults.close();
    }
  });
});

describe('validation and errors (docs/dashscope.md §6, §9.2–9.3)', () => {
  it('401 InvalidApiKey for a missing or unknown key', async () => {
    const res = await fetch(`${sim.url}${GENERATION}`, { method: 'POST', body: JSON.stringify(nativeBody('x')) });
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ code: 'InvalidApiKey', message: 'Invalid API-key provided.' });
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('400 InvalidParameter when messages sit next to model instead of inside input', async () => {
    const res = await post(GENERATION, { model: 'qwen-plus', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'InvalidParameter' });
  });

  it('streams request-validation errors inside HTTP 200 as one event:error (§3.1)', async () => {
    const res = await post(GENERATION, nativeBody(''), { 'x-dashscope-sse': 'enable' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^id:1\nevent:error\n:HTTP_STATUS\/400\ndata:\{"code":"InvalidParameter","message":"Role must be user or assistant and Content length must be greater than 0","request_id":"[^"]+"\}\n\n$/);
  });

  it('404 ModelNotFound for unknown models and NotFound for unknown paths', async () => {
    expect((await post(GENERATION, { ...nativeBody('x'), model: 'llama' })).status).toBe(404);
    const res = await post('/api/v1/nowhere', {});
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NotFound' });
  });

  it('fault rules apply to matching requests only, as many times as asked', async () => {
    sim.setFaults([{ kind: 'throttle', times: 2, endpoints: ['generation'] }]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(GENERATION, nativeBody('x'))).status);
    expect(statuses).toEqual([429, 429, 200]);
  });

  it('parses the header / directive fault spec and rejects a malformed one loudly', async () => {
    expect(parseFaultSpec('midStreamError;afterDeltas=2;code=InternalError')).toEqual({ kind: 'midStreamError', afterDeltas: 2, code: 'InternalError' });
    expect(parseFaultSpec('{"kind":"throttle","times":1}')).toEqual({ kind: 'throttle', times: 1 });
    expect(parseFaultSpec('explode')).toMatch(/unknown fault kind/);
    const res = await post(GENERATION, nativeBody('x'), { 'x-simulator-fault': 'explode' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('simulator') });
  });

  it('honours a [sim-fault:…] directive in the last user message', async () => {
    const res = await post(GENERATION, nativeBody('please [sim-fault:serverError;status=503]'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'ModelUnavailable' });
  });

  it('exposes requests, faults, reset and clock over admin routes', async () => {
    const put = await fetch(`${sim.url}/__simulator/faults`, { method: 'PUT', body: JSON.stringify([{ kind: 'badKey', times: 1 }]) });
    expect(put.status).toBe(200);
    expect((await post(GENERATION, nativeBody('x'))).status).toBe(401);
    const log = (await (await fetch(`${sim.url}/__simulator/requests`)).json()) as { status: number }[];
    expect(log.map((r) => r.status)).toEqual([401]);
    expect((await fetch(`${sim.url}/__simulator/faults`, { method: 'PUT', body: '[{"kind":"nope"}]' })).status).toBe(400);
    await fetch(`${sim.url}/__simulator/reset`, { method: 'POST' });
    expect(sim.requests).toHaveLength(0);
  });
});

describe('OpenAI-compatible mode (docs/dashscope.md §4)', () => {
  const path = '/compatible-mode/v1/chat/completions';
  const body = { model: 'qwen-plus', messages: [{ role: 'user', content: 'Who are you?' }] };

  it('streams a role chunk, deltas, a stop chunk, a usage chunk on request, then [DONE]', async () => {
    const res = await post(path, { ...body, stream: true, stream_options: { include_usage: true } });
    const events = parseSseText(await res.text());
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { id: string; choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[]; usage: unknown });
    expect(chunks[0]?.choices[0]?.delta).toEqual({ content: '', role: 'assistant' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('sends no usage chunk unless asked, and the compat error envelope for a bad key', async () => {
    const events = parseSseText(await (await post(path, { ...body, stream: true })).text());
    const last = JSON.parse(events.at(-2)?.data ?? '{}') as { choices: unknown[] };
    expect(last.choices).toHaveLength(1);
    const res = await post(path, body, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
  });
});
