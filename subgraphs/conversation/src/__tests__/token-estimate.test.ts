import { describe, expect, it } from 'vitest';
import { estimatePromptTokens as simulatorPromptTokens, estimateTokens as simulatorTokens } from '@firefly/dashscope-simulator';
import { estimatePromptTokens, estimateTextTokens, MESSAGE_OVERHEAD_TOKENS, PROMPT_OVERHEAD_TOKENS } from '../domain/token-estimate.ts';

const SAMPLES = [
  '',
  'Hello, world!',
  'How do fireflies make light?',
  '萤火虫为什么会发光？请详细解释。',
  'internationalization antidisestablishmentarianism',
  'Mixed 中文 and English, with émojis 🎉🔥 and symbols: <>{}[]()',
  'ひらがな カタカナ 한국어',
  'x'.repeat(1000),
  'a b c d e f g',
  'line one\nline two\n\n\tindented',
  '1234567890 3.14159 1e10',
];

describe('token estimate', () => {
  it('counts CJK characters 1, words max(1.3, length/4), symbols 1, whitespace 0, rounded up', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('萤火虫')).toBe(3);
    expect(estimateTextTokens('hi')).toBe(2); // 1.3 → 2
    expect(estimateTextTokens('hi there')).toBe(3); // 2.6 → 3
    expect(estimateTextTokens('internationalization')).toBe(5); // 20 / 4
    expect(estimateTextTokens('a, b!')).toBe(5); // 1.3 + 1 + 1.3 + 1 = 4.6 → 5
    expect(estimatePromptTokens(['hi'])).toBe(PROMPT_OVERHEAD_TOKENS + 2 + MESSAGE_OVERHEAD_TOKENS);
  });

  it('never counts fewer tokens than the simulator bills, so a reservation always covers its usage', () => {
    for (const text of SAMPLES) expect(estimateTextTokens(text)).toBeGreaterThanOrEqual(simulatorTokens(text));
    expect(estimatePromptTokens(SAMPLES)).toBeGreaterThanOrEqual(simulatorPromptTokens(SAMPLES));
    // Random text over a mixed alphabet.
    const alphabet = ['a', 'Z', '9', ' ', '\n', '火', '虫', 'か', '!', '🎉', 'é', '_', '-'];
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 300; i++) {
      const text = Array.from({ length: Math.floor(random() * 200) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(estimateTextTokens(text)).toBeGreaterThanOrEqual(simulatorTokens(text));
    }
  });
});
