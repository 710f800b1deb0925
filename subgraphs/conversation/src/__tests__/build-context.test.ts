import { describe, expect, it } from 'vitest';
import { buildContext, inputBudgetOf } from '../domain/build-context.ts';
import type { HistoryMessage } from '../domain/ports.ts';
import { estimatePromptTokens } from '../domain/token-estimate.ts';

let clock = Date.UTC(2026, 0, 1);
function turn(question: string, answer: string, status: HistoryMessage['status'] = 'COMPLETED'): HistoryMessage[] {
  const q: HistoryMessage = { id: `q${clock}`, role: 'USER', content: question, status: 'COMPLETED', replyToId: null, createdAt: new Date((clock += 1000)) };
  const a: HistoryMessage = { id: `a${clock}`, role: 'ASSISTANT', content: answer, status, replyToId: q.id, createdAt: new Date((clock += 1000)) };
  return [q, a];
}

describe('buildContext', () => {
  it('keeps the system prompt and the message, then the most recent whole turns that fit', () => {
    const history = [...turn('first question', 'first answer'), ...turn('second question', 'second answer'), ...turn('third question', 'third answer')];
    const all = buildContext({ systemPrompt: 'Be brief.', history, userContent: 'fourth question', budget: 10_000 });
    expect(all.messages.map((m) => m.content)).toEqual(['Be brief.', 'first question', 'first answer', 'second question', 'second answer', 'third question', 'third answer', 'fourth question']);
    expect(all.inputTokens).toBe(estimatePromptTokens(all.messages.map((m) => m.content)));

    // Just enough for the last turn: the two older ones go, whole.
    const budget = estimatePromptTokens(['Be brief.', 'third question', 'third answer', 'fourth question']);
    const cut = buildContext({ systemPrompt: 'Be brief.', history, userContent: 'fourth question', budget });
    expect(cut.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(cut.messages[1]!.content).toBe('third question');
    expect(cut).toMatchObject({ inputTokens: budget, turnsIncluded: 1, turnsDropped: 2 });
    expect(buildContext({ systemPrompt: 'Be brief.', history, userContent: 'fourth question', budget: budget - 1 }).turnsIncluded).toBe(0);
  });

  it('never goes over the budget, and is maximal: the next older turn would not fit', () => {
    let seed = 11;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const words = ['firefly', '萤火虫', 'light', 'the', 'glow', '夜晚', 'luciferin', 'summer', '。', '!'];
    const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
    for (let round = 0; round < 200; round++) {
      const history = Array.from({ length: Math.floor(random() * 12) }, () => turn(text(1 + Math.floor(random() * 40)), text(1 + Math.floor(random() * 80)))).flat();
      const systemPrompt = random() < 0.5 ? text(5 + Math.floor(random() * 30)) : null;
      const userContent = text(1 + Math.floor(random() * 30));
      const budget = 40 + Math.floor(random() * 800);
      let context;
      try {
        context = buildContext({ systemPrompt, history, userContent, budget });
      } catch (error) {
        expect((error as { code?: string }).code).toBe('BAD_USER_INPUT');
        expect(estimatePromptTokens([...(systemPrompt ? [systemPrompt] : []), userContent])).toBeGreaterThan(budget);
        continue;
      }
      const tokens = estimatePromptTokens(context.messages.map((m) => m.content));
      expect(tokens).toBe(context.inputTokens);
      expect(tokens).toBeLessThanOrEqual(budget);
      if (context.turnsDropped > 0) {
        const turns = history.length / 2;
        const next = history.slice((turns - context.turnsIncluded - 1) * 2, (turns - context.turnsIncluded) * 2);
        expect(tokens + estimatePromptTokens(next.map((m) => m.content)) - 3).toBeGreaterThan(budget);
      }
    }
  });

  it('leaves out failed and unfinished answers (with their question) and uses the newest regenerated answer', () => {
    const [q1, a1] = turn('q1', 'a1');
    const [q2, failed] = turn('q2', 'partial', 'FAILED');
    const [q3, a3old] = turn('q3', 'old answer');
    const a3new: HistoryMessage = { ...a3old!, id: 'a3new', content: 'new answer', createdAt: new Date((clock += 1000)) };
    const [, emptyStopped] = turn('q4', '   ', 'STOPPED');
    const context = buildContext({ systemPrompt: null, history: [a3new, q1!, a1!, q2!, failed!, q3!, a3old!, emptyStopped!], userContent: 'q5', budget: 1_000 });
    expect(context.messages.map((m) => m.content)).toEqual(['q1', 'a1', 'q3', 'new answer', 'q5']);
  });

  it('refuses a message that cannot fit even alone, as BAD_USER_INPUT on content', () => {
    expect(() => buildContext({ systemPrompt: 'sys', history: [], userContent: 'word '.repeat(100), budget: 50 })).toThrowError(
      expect.objectContaining({ code: 'BAD_USER_INPUT', extensions: expect.objectContaining({ field: 'content' }) }),
    );
  });

  it('budgets 95% of the model input limit', () => {
    expect(inputBudgetOf({ maxInputTokens: 30_720 })).toBe(29_184);
  });
});
