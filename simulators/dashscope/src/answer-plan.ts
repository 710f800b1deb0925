import { composeReasoning, composeReply, type ReplyMessage } from './reply.ts';
import { estimatePromptTokens, splitUnits, tenths } from './tokens.ts';

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

  // Token counts are kept in tenths as running sums of the units' own counts (tokens.ts: additive over units), not
  // recounted over the growing text for every unit: that made planning quadratic in the answer's length.
  const tokensOf = (tenthsCount: number) => Math.ceil(tenthsCount / 10);
  const deltas: PlannedDelta[] = [];
  const reasoningUnits = splitUnits(reasoning);
  let reasoningTenths = 0;
  for (let i = 0; i < reasoningUnits.length; i += 4) {
    const slice = reasoningUnits.slice(i, i + 4);
    for (const unit of slice) reasoningTenths += tenths(unit);
    deltas.push({ reasoning: slice.join(''), content: '', outputTokens: tokensOf(reasoningTenths) });
  }
  const reasoningTokens = tokensOf(reasoningTenths);

  const units = splitUnits(reply);
  // Two or three units per delta reads like real Qwen streaming; fewer when needed to reach `minDeltas`.
  const perDelta = Math.max(1, Math.min(3, Math.floor(units.length / Math.max(1, minDeltas))));
  let content = '';
  let contentTenths = 0;
  let finishReason: 'stop' | 'length' = 'stop';
  let pending = '';
  let pendingTenths = 0;
  let pendingCount = 0;
  const flush = (): void => {
    if (pending === '') return;
    content += pending;
    contentTenths += pendingTenths;
    deltas.push({ reasoning: '', content: pending, outputTokens: reasoningTokens + tokensOf(contentTenths) });
    pending = '';
    pendingTenths = 0;
    pendingCount = 0;
  };
  for (const unit of units) {
    const unitTenths = tenths(unit);
    if (request.maxTokens !== undefined && tokensOf(contentTenths + pendingTenths + unitTenths) > request.maxTokens) {
      finishReason = 'length';
      break;
    }
    pending += unit;
    pendingTenths += unitTenths;
    pendingCount += 1;
    if (pendingCount === perDelta) flush();
  }
  flush();

  return {
    inputTokens,
    deltas,
    content,
    reasoning,
    outputTokens: reasoningTokens + tokensOf(contentTenths),
    reasoningTokens,
    finishReason,
  };
}
