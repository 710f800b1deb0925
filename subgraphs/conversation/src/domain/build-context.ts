import { badUserInput } from '@firefly/errors';
import type { ChatMessage } from '@firefly/dashscope';
import type { HistoryMessage } from './ports.ts';
import { estimateMessageTokens, PROMPT_OVERHEAD_TOKENS } from './token-estimate.ts';

/**
 * Share of a model's input limit we fill at most. The estimate already over-counts; this margin also absorbs
 * tokenizer surprises (rare characters, markup) so a prompt is never refused as too long.
 */
const INPUT_BUDGET_RATIO = 0.95;

/** The input tokens we allow ourselves for a model (see {@link INPUT_BUDGET_RATIO}). */
export function inputBudgetOf(model: { maxInputTokens: number }): number {
  return Math.floor(model.maxInputTokens * INPUT_BUDGET_RATIO);
}


export interface BuildContextInput {
  systemPrompt: string | null;
  /** Earlier messages of the conversation, in any order (the current user message excluded). */
  history: readonly HistoryMessage[];
  /** The user message to answer. */
  userContent: string;
  /** Input token budget (see {@link inputBudgetOf}). */
  budget: number;
}

export interface BuiltContext {
  messages: ChatMessage[];
  /** Our estimate of the prompt's input tokens; never above the budget. */
  inputTokens: number;
  /** Earlier turns (question + answer) included. */
  turnsIncluded: number;
  /** Earlier turns left out because they did not fit. */
  turnsDropped: number;
}

interface Turn {
  question: HistoryMessage;
  answer: HistoryMessage;
  tokens: number;
}

/**
 * The prompt for one answer: the system prompt, then as many of the most recent earlier turns as fit the budget,
 * then the user message. Turns go in whole (question and answer together) and only as a contiguous recent run:
 * skipping one long turn to fit older ones would give the model a history with a hole in it. A turn counts when
 * its question has an answer worth showing (COMPLETED, or STOPPED with some text; the newest such answer when it
 * was regenerated). FAILED and still-STREAMING answers, and questions without an answer, are left out.
 *
 * BAD_USER_INPUT (field `content`) when the system prompt and the message alone exceed the budget.
 */
export function buildContext(input: BuildContextInput): BuiltContext {
  const fixed: ChatMessage[] = [];
  if (input.systemPrompt) fixed.push({ role: 'system', content: input.systemPrompt });
  const fixedTokens =
    PROMPT_OVERHEAD_TOKENS + fixed.reduce((sum, m) => sum + estimateMessageTokens(m.content), 0) + estimateMessageTokens(input.userContent);
  if (fixedTokens > input.budget) {
    throw badUserInput(`The message is too long for this model: about ${fixedTokens} tokens with the system prompt, at most ${input.budget}`, {
      field: 'content',
      estimatedTokens: fixedTokens,
      maxTokens: input.budget,
    });
  }

  const turns = completedTurns(input.history);
  let used = fixedTokens;
  const included: Turn[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i]!;
    if (used + turn.tokens > input.budget) break;
    used += turn.tokens;
    included.unshift(turn);
  }

  const messages: ChatMessage[] = [...fixed];
  for (const turn of included) {
    messages.push({ role: 'user', content: turn.question.content });
    messages.push({ role: 'assistant', content: turn.answer.content });
  }
  messages.push({ role: 'user', content: input.userContent });
  return { messages, inputTokens: used, turnsIncluded: included.length, turnsDropped: turns.length - included.length };
}

/** Question/answer pairs in chronological order, each with its newest usable answer. */
function completedTurns(history: readonly HistoryMessage[]): Turn[] {
  const byTime = [...history].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const answers = new Map<string, HistoryMessage>();
  for (const message of byTime) {
    if (message.role !== 'ASSISTANT' || !message.replyToId || !isUsableAnswer(message)) continue;
    answers.set(message.replyToId, message);
  }
  const turns: Turn[] = [];
  for (const message of byTime) {
    if (message.role !== 'USER') continue;
    const answer = answers.get(message.id);
    if (!answer) continue;
    turns.push({ question: message, answer, tokens: estimateMessageTokens(message.content) + estimateMessageTokens(answer.content) });
  }
  return turns;
}

function isUsableAnswer(message: HistoryMessage): boolean {
  if (message.status === 'COMPLETED') return message.content !== '';
  if (message.status === 'STOPPED') return message.content.trim() !== '';
  return false;
}
