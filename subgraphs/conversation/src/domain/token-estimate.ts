/**
 * Our token estimate, used for the context budget and the credit reservation. It must never count fewer tokens
 * than the model will bill, so it is deliberately pessimistic:
 *
 * - each CJK character (Han, kana, Hangul, CJK and full-width punctuation) counts 1 token;
 * - each other word (a run of letters, digits, combining marks, `_`) counts the larger of 1.3 tokens and one token
 *   per 4 characters (byte-level BPE splits long or rare words into several pieces);
 * - each other non-space character (punctuation, symbols, emoji) counts 1 token;
 * - whitespace is free;
 * - each message adds {@link MESSAGE_OVERHEAD_TOKENS} for the chat template (`<|im_start|>role\n … <|im_end|>\n`),
 *   and a prompt adds {@link PROMPT_OVERHEAD_TOKENS} once for the assistant's opening marker;
 * - totals are rounded up.
 *
 * The rule is a superset of the DashScope simulator's (`estimateTokens` in @firefly/dashscope-simulator: CJK 1,
 * word 1.3, symbol 1, 3 per message), so in development and tests a reservation always covers the usage the
 * simulator reports; against real Qwen tokenizers (about 1 token per common Han character, 0.75 per English word)
 * it over-counts. Counting is done in tenths so that sums stay exact.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;
export const PROMPT_OVERHEAD_TOKENS = 3;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;

function wordTenths(length: number): number {
  return Math.max(13, Math.ceil((length * 10) / 4));
}

function tenths(text: string): number {
  let total = 0;
  let wordLength = 0;
  const endWord = () => {
    if (wordLength > 0) total += wordTenths(wordLength);
    wordLength = 0;
  };
  for (const ch of text) {
    if (CJK.test(ch)) {
      endWord();
      total += 10;
    } else if (WORD.test(ch)) {
      wordLength += 1;
    } else {
      endWord();
      if (!SPACE.test(ch)) total += 10;
    }
  }
  endWord();
  return total;
}

/** Estimated tokens of a text on its own (no template overhead). */
export function estimateTextTokens(text: string): number {
  return Math.ceil(tenths(text) / 10);
}

/** Estimated tokens of one message inside a prompt. */
export function estimateMessageTokens(content: string): number {
  return estimateTextTokens(content) + MESSAGE_OVERHEAD_TOKENS;
}

/** Estimated input tokens of a whole prompt. */
export function estimatePromptTokens(contents: readonly string[]): number {
  return contents.reduce((sum, content) => sum + estimateMessageTokens(content), PROMPT_OVERHEAD_TOKENS);
}
