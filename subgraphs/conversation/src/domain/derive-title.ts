/** Longest title derived from a first message, in characters (code points), before the ellipsis. */
const DERIVED_TITLE_LENGTH = 50;

/** What a conversation is called until it has a first message (or a title of its own). */
export const UNTITLED = 'New conversation';

/**
 * A title from the first message: its first non-empty line, whitespace collapsed, cut at
 * {@link DERIVED_TITLE_LENGTH} characters (never inside a surrogate pair) with an ellipsis when cut.
 */
export function deriveTitle(content: string): string {
  const line = content.split(/\r?\n/u).map((l) => l.replace(/\s+/gu, ' ').trim()).find((l) => l !== '') ?? '';
  const chars = [...line];
  if (chars.length === 0) return UNTITLED;
  if (chars.length <= DERIVED_TITLE_LENGTH) return line;
  return `${chars.slice(0, DERIVED_TITLE_LENGTH).join('').trimEnd()}…`;
}
