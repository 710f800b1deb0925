import { splitUnits } from './tokens.ts';

export interface ReplyMessage {
  role: string;
  content: string;
}

export interface ComposeReplyOptions {
  /** The answer is extended until it has at least this many units (words / CJK characters). */
  minUnits?: number;
  /** Varies the wording, like the real `seed` parameter. */
  seed?: number;
}

/**
 * Writes the simulator's answer: deterministic for the same messages and seed (tests can assert exact text), shaped
 * like an assistant's reply and built from the prompt, in Chinese when the last user message is Chinese.
 */
export function composeReply(messages: readonly ReplyMessage[], options: ComposeReplyOptions = {}): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const followUp = messages.some((m) => m.role === 'assistant');
  const pick = variantPicker(`${options.seed ?? 0}\u0000${lastUser}`);
  const chinese = isChinese(lastUser);
  const parts = chinese ? chineseReply(lastUser, followUp, pick) : englishReply(lastUser, followUp, pick);

  let text = parts.body;
  const minUnits = options.minUnits ?? 0;
  for (let i = 0; splitUnits(text).length < minUnits; i++) {
    text += parts.extra(i);
  }
  return text + parts.closing;
}

/** Short "thinking" text for `enable_thinking` (streamed as `reasoning_content` before the answer, docs/dashscope.md §3). */
export function composeReasoning(messages: readonly ReplyMessage[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const topic = summarize(lastUser, 40);
  return isChinese(lastUser)
    ? `用户问的是“${topic}”。我应该先说明思路，再分步骤给出建议，最后总结。`
    : `The user is asking about "${topic}". I should outline an approach, give concrete steps, then summarize.`;
}

/** More Han characters than Latin words in the message. */
export function isChinese(text: string): boolean {
  const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latinWords = text.match(/[A-Za-z]+/g)?.length ?? 0;
  return han > 0 && han >= latinWords;
}

interface ReplyParts {
  body: string;
  extra: (index: number) => string;
  closing: string;
}

type Pick = <T>(options: readonly T[]) => T;

function englishReply(prompt: string, followUp: boolean, pick: Pick): ReplyParts {
  const topic = summarize(prompt, 80).replace(/[?？.!。]+$/u, '') || 'your question';
  const keywords = englishKeywords(prompt);
  const focus = keywords[0] ?? 'the main goal';
  const second = keywords[1];

  const opening = pick([
    `Good question. You asked: "${topic}".`,
    `Let me help with that. Your question was: "${topic}".`,
    `Sure. Here is how I would approach "${topic}".`,
  ]);
  const lead = followUp ? 'Building on what we discussed so far, here is a structured answer:' : 'Here is a structured answer:';
  const body =
    `${opening} ${lead}\n\n` +
    `1. **Clarify the goal.** Decide what a good outcome for ${focus} looks like, and which constraints matter most.\n` +
    `2. **Break it down.** Split the problem into smaller steps${second ? `, starting with ${second}` : ''}, and check each step against what you already know.\n` +
    `3. **Check the result.** Compare the outcome with your original goal, and write down your assumptions so they are easy to verify later.\n\n`;
  const extras = [
    `Another point worth considering is how ${focus} fits into the bigger picture; small, testable steps make progress easier to see.`,
    `It also helps to look at a concrete example of ${second ?? focus} before generalizing, because examples expose hidden assumptions.`,
    `Finally, keep notes as you go: a short record of what worked and what did not saves time the next time ${focus} comes up.`,
  ];
  return {
    body,
    extra: (i) => `${extras[i % extras.length] ?? ''}\n\n`,
    closing: `In short, start with ${focus}, then refine the details step by step. If you share more context, I can give a more specific answer.`,
  };
}

function chineseReply(prompt: string, followUp: boolean, pick: Pick): ReplyParts {
  const topic = summarize(prompt, 40).replace(/[?？.!。！]+$/u, '') || '你的问题';
  const focus = chineseFocus(prompt);

  const opening = pick([`这是个好问题。你问的是：“${topic}”。`, `好的，我来帮你分析一下“${topic}”。`, `收到。关于“${topic}”，我的思路如下。`]);
  const lead = followUp ? '结合我们前面的讨论，下面分几步来说明：' : '下面分几步来说明：';
  const body =
    `${opening}${lead}\n\n` +
    `1. **明确目标。**先想清楚关于“${focus}”你希望得到什么样的结果，以及哪些限制条件最重要。\n` +
    `2. **拆解问题。**把问题拆成几个小步骤，逐一对照已知的信息进行检查。\n` +
    `3. **验证结果。**把结果和最初的目标进行比较，并记录下其中的假设，方便之后核实。\n\n`;
  const extras = [
    `另外，还要考虑“${focus}”在整体中的位置；把目标拆成可以验证的小步骤，更容易看到进展。`,
    `在归纳之前，先看一个具体的例子会很有帮助，因为例子往往能暴露隐藏的假设。`,
    `最后，建议边做边记录：哪些方法有效、哪些无效，下次遇到类似的问题时可以节省很多时间。`,
  ];
  return {
    body,
    extra: (i) => `${extras[i % extras.length] ?? ''}\n\n`,
    closing: `总之，建议先从“${focus}”入手，再逐步完善细节。如果你能提供更多背景信息，我可以给出更具体的建议。`,
  };
}

function summarize(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= maxChars ? flat : `${chars.slice(0, maxChars - 1).join('').trimEnd()}…`;
}

const STOPWORDS = new Set(
  'about above after again also been before being below between both could does doing down during each from further have having here into itself just more most other over same should some such than that their them then there these they this those through under until very what when where which while whom with would your yours please tell explain write give show'.split(
    ' ',
  ),
);

function englishKeywords(text: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const word of text.match(/[A-Za-z][A-Za-z'-]{3,}/g) ?? []) {
    const lower = word.toLowerCase();
    if (STOPWORDS.has(lower) || seen.has(lower)) continue;
    seen.add(lower);
    words.push(lower);
  }
  return words;
}

/** The first clause of the question, without leading question words, capped at 12 characters. */
function chineseFocus(text: string): string {
  const clause = text.split(/[，。？！?!,.;；:：\n]/u).find((part) => part.trim() !== '') ?? text;
  const stripped = clause.trim().replace(/^(请问|请你|请|帮我|你能|能否|可以|如何|怎么样|怎样|怎么|什么是|为什么)+/u, '');
  return [...(stripped || clause.trim())].slice(0, 12).join('') || '这个问题';
}

/** FNV-1a over the key; each call to the returned picker takes the next choice from the same hash. */
function variantPicker(key: string): Pick {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return <T>(options: readonly T[]): T => {
    const choice = options[hash % options.length] as T;
    hash = Math.imul(hash ^ (hash >>> 13), 0x5bd1e995) >>> 0;
    return choice;
  };
}
