import { composeReasoning, composeReply, type ReplyMessage } from './reply.ts';
import { estimatePromptTokens, estimateTokens, splitUnits } from './tokens.ts';

export interface AnswerRequest {
  messages: readonly ReplyMessage[];
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: readonly string[];
  thinking: boolean;
}

export interface PlannedDelta {
  reasoning: string;
  content: string;
  /** Cumulative output tokens once this delta is out (reasoning + content), for `usage` (docs/dashscope.md §3). */
  outputTokens: number;
}

export interface AnswerPlan {
  inputTokens: number;
  deltas: PlannedDelta[];
  content: string;
  reasoning: string;
  outputTokens: number;
  reasoningTokens: number;
  finishReason: 'stop' | 'length';
}

/**
 * Decides the whole answer up front — text, how it is cut into deltas, and the usage after each — so the streaming
 * and the non-streaming paths report identical text and tokens.
 */
export function planAnswer(request: AnswerRequest, minDeltas: number): AnswerPlan {
  const inputTokens = estimatePromptTokens(request.messages.map((m) => m.content));
  const reasoning = request.thinking ? composeReasoning(request.messages) : '';
  let reply = composeReply(request.messages, { seed: request.seed, minUnits: minDeltas });
  for (const stop of request.stop) {
    const at = stop === '' ? -1 : reply.indexOf(stop);
    if (at !== -1) reply = reply.slice(0, at);
  }

  const deltas: PlannedDelta[] = [];
  const reasoningUnits = splitUnits(reasoning);
  const reasoningTokens = estimateTokens(reasoning);
  for (let i = 0; i < reasoningUnits.length; i += 4) {
    const text = reasoningUnits.slice(i, i + 4).join('');
    deltas.push({ reasoning: text, content: '', outputTokens: estimateTokens(reasoningUnits.slice(0, i + 4).join('')) });
  }

  const units = splitUnits(reply);
  // Two or three units per delta reads like real Qwen streaming; fewer when needed to reach `minDeltas`.
  const perDelta = Math.max(1, Math.min(3, Math.floor(units.length / Math.max(1, minDeltas))));
  let content = '';
  let finishReason: 'stop' | 'length' = 'stop';
  let pending = '';
  let pendingCount = 0;
  const flush = (): void => {
    if (pending === '') return;
    content += pending;
    deltas.push({ reasoning: '', content: pending, outputTokens: reasoningTokens + estimateTokens(content) });
    pending = '';
    pendingCount = 0;
  };
  for (const unit of units) {
    if (request.maxTokens !== undefined && estimateTokens(content + pending + unit) > request.maxTokens) {
      finishReason = 'length';
      break;
    }
    pending += unit;
    pendingCount += 1;
    if (pendingCount === perDelta) flush();
  }
  flush();

  return {
    inputTokens,
    deltas,
    content,
    reasoning,
    outputTokens: reasoningTokens + estimateTokens(content),
    reasoningTokens,
    finishReason,
  };
}
