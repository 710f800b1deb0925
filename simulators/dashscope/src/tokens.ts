/**
 * The simulator's deterministic stand-in for Qwen's tokenizer, used for every `usage` number it reports:
 *
 * - each CJK character (Han, kana, Hangul, CJK and full-width punctuation) counts 1 token;
 * - each other word (a run of letters, digits and combining marks) counts 1.3 tokens;
 * - each other non-space character (punctuation, symbols, emoji) counts 1 token;
 * - whitespace is free;
 * - the total is rounded up.
 *
 * Counting is done in tenths so that sums stay exact (13 × 1.3 must be 17, not 16.900000000000002 → 17 or 17.000…1 → 18).
 * Prompt tokens add {@link MESSAGE_OVERHEAD_TOKENS} per message for the chat template's role markers.
 */
export const MESSAGE_OVERHEAD_TOKENS = 3;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;

type CharClass = 'cjk' | 'word' | 'space' | 'other';

/**
 * The class of one character. ASCII (nearly every character of an English answer) is decided by its code: the
 * Unicode property tests cost about a microsecond a character, and the simulator classifies every character of every
 * answer it plans (answer-plan.ts), on the same cores as the services a benchmark measures.
 */
function classify(ch: string): CharClass {
  const code = ch.charCodeAt(0);
  if (code < 0x80) {
    if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f) return 'word';
    if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return 'space';
    return 'other';
  }
  if (CJK.test(ch)) return 'cjk';
  if (WORD.test(ch)) return 'word';
  if (SPACE.test(ch)) return 'space';
  return 'other';
}

/**
 * Tokens in tenths; see the module comment for the rule. Additive over the units of {@link splitUnits} (no unit
 * boundary falls between two word characters), so an answer's running count is the sum of its units' counts.
 */
export function tenths(text: string): number {
  let total = 0;
  let inWord = false;
  for (const ch of text) {
    const kind = classify(ch);
    if (kind === 'word') {
      if (!inWord) total += 13;
      inWord = true;
      continue;
    }
    inWord = false;
    if (kind === 'cjk' || kind === 'other') total += 10;
  }
  return total;
}

export function estimateTokens(text: string): number {
  return Math.ceil(tenths(text) / 10);
}

export function estimatePromptTokens(contents: readonly string[]): number {
  return contents.reduce((sum, content) => sum + estimateTokens(content) + MESSAGE_OVERHEAD_TOKENS, 0);
}

/**
 * Splits text into the units a model would emit one by one: a whole word, one CJK character or one symbol, each
 * carrying the whitespace before it. Joining the units gives the text back exactly, and a word is never cut, so the
 * running token estimate only ever grows.
 */
export function splitUnits(text: string): string[] {
  const units: string[] = [];
  let current = '';
  let currentIsWord = false;
  let pendingSpace = '';
  for (const ch of text) {
    const kind = classify(ch);
    if (kind === 'space') {
      pendingSpace += ch;
      continue;
    }
    if (kind === 'word' && currentIsWord && pendingSpace === '') {
      current += ch;
      continue;
    }
    if (current !== '') units.push(current);
    current = pendingSpace + ch;
    pendingSpace = '';
    currentIsWord = kind === 'word';
  }
  if (current !== '' || pendingSpace !== '') units.push(current + pendingSpace);
  return units;
}
