// The OpenAI-compatible chat client against the simulator's compatible mode (the real `openai` SDK on the wire).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { createCompatibleChatClient, isDashScopeError, type ChatChunk } from '../index.ts';

let sim: DashScopeSimulator;
beforeAll(async () => {
  sim = await startDashScopeSimulator({ tokenDelayMs: 1, firstTokenDelayMs: 1 });
});
afterAll(() => sim?.close());

async function collect(iterator: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of iterator) chunks.push(chunk);
  return chunks;
}

describe('createCompatibleChatClient', () => {
  it('streams gap-free chunks ending with the finish reason and the billed usage', async () => {
    const client = createCompatibleChatClient({ baseUrl: sim.compatibleBaseUrl, apiKey: sim.apiKey });
    const chunks = await collect(client.streamChat({ model: 'qwen-plus', messages: [{ role: 'user', content: 'Say something about lanterns' }], maxTokens: 50 }));
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, i) => i + 1));
    const last = chunks.at(-1)!;
    expect(last.finishReason).toMatch(/stop|length/);
    expect(last.delta).toBe('');
    expect(chunks.slice(0, -1).every((chunk) => chunk.delta !== '' && chunk.finishReason === null)).toBe(true);
    expect(last.usage.inputTokens).toBeGreaterThan(0);
    expect(last.usage.outputTokens).toBeGreaterThan(0);
    expect(last.usage.outputTokens).toBeLessThanOrEqual(50);
  });

  it('fails as a classified DashScopeError without the key in it: wrong key, unknown model', async () => {
    const wrongKey = createCompatibleChatClient({ baseUrl: sim.compatibleBaseUrl, apiKey: 'sk-wrong-secret', maxRetries: 0 });
    const refused = await collect(wrongKey.streamChat({ model: 'qwen-plus', messages: [{ role: 'user', content: 'hi' }] })).catch((error: unknown) => error);
    expect(isDashScopeError(refused) && refused.kind).toBe('auth');
    expect(JSON.stringify(refused) + String((refused as Error).message)).not.toContain('sk-wrong-secret');

    const client = createCompatibleChatClient({ baseUrl: sim.compatibleBaseUrl, apiKey: sim.apiKey, maxRetries: 0 });
    const unknown = await collect(client.streamChat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).catch((error: unknown) => error);
    expect(isDashScopeError(unknown) && unknown.kind).toBe('not_found');
  });
});
