import { planAnswer, type AnswerPlan } from './answer-plan.ts';
import {
  checkChatModel,
  checkInputInspection,
  checkInputLength,
  checkMessages,
  checkSampling,
  invalidParameter,
  isFaultError,
  wantsOutputInspection,
} from './chat-validation.ts';
import type { Exchange } from './context.ts';
import { OUTPUT_INSPECTION_FAULT, planFault, strikeFault, type ErrorAction, type MidStreamFault } from './fault-actions.ts';
import type { FaultError } from './faults.ts';
import { dashscopeHeaders, nativeSseEvent, openEventStream, pause, sendJson, writeChunked } from './http.ts';
import type { ReplyMessage } from './reply.ts';

interface NativeRequest {
  messages: ReplyMessage[];
  resultFormat: 'message' | 'text';
  incremental: boolean;
  thinking: boolean;
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `POST /api/v1/services/aigc/text-generation/generation` (docs/dashscope.md §2, §3, §9.3–9.6). */
export async function handleTextGeneration(x: Exchange): Promise<void> {
  // X-DashScope-SSE is the switch (§1); Accept alone is not trusted to turn streaming on.
  const stream = String(x.req.headers['x-dashscope-sse'] ?? '').toLowerCase() === 'enable';
  x.record.stream = stream;
  const faults = planFault(x.fault, stream);
  const sendError = ({ error, framing, retryAfterSeconds }: ErrorAction): void => sendNativeError(x, error, stream, framing, retryAfterSeconds);
  if (faults.before && !(await strikeFault(x, faults.before, sendError))) return;

  const parsed = parseNativeRequest(x, stream);
  if (isFaultError(parsed)) {
    sendNativeError(x, parsed, stream, 'sse');
    return;
  }
  const inspection = checkInputInspection(parsed.messages, x.sim.options);
  if (inspection) {
    sendNativeError(x, inspection, stream, 'sse');
    return;
  }

  const plan = planAnswer(
    { messages: parsed.messages, maxTokens: parsed.maxTokens, seed: parsed.seed, stop: parsed.stop, thinking: parsed.thinking },
    x.sim.options.minDeltas,
  );

  if (!stream) {
    if (!(await pause(x.sim.options.firstTokenDelayMs, x.clientGone))) return;
    sendJson(x.res, 200, completeBody(x, parsed, plan), dashscopeHeaders(x.requestId, x.arrivedAt, true));
    x.record.status = 200;
    return;
  }

  const during = faults.during ?? (wantsOutputInspection(parsed.messages, x.sim.options) ? OUTPUT_INSPECTION_FAULT : undefined);
  await streamAnswer(x, parsed, plan, during);
}

function parseNativeRequest(x: Exchange, stream: boolean): NativeRequest | FaultError {
  if (x.bodyError) return invalidParameter(x.bodyError);
  const body = x.body;
  if (!isObj(body)) return invalidParameter('The request body must be a JSON object.');
  const modelError = checkChatModel(body.model, x.sim.options);
  if (modelError) return modelError;
  // §2: messages belong inside `input`; next to `model` they do not count.
  const input = body.input;
  if (!isObj(input)) {
    return 'messages' in body
      ? invalidParameter('Either "prompt" or "messages" must exist and cannot both be none')
      : { status: 400, code: 'BadRequest.EmptyInput', message: 'Required input parameter missing from request.' };
  }
  let messages: ReplyMessage[] | FaultError;
  if (input.messages !== undefined) messages = checkMessages(input.messages);
  else if (typeof input.prompt === 'string' && input.prompt !== '') messages = [{ role: 'user', content: input.prompt }];
  else return invalidParameter('Either "prompt" or "messages" must exist and cannot both be none');
  if (isFaultError(messages)) return messages;
  const tooLong = checkInputLength(messages, x.sim.options);
  if (tooLong) return tooLong;

  const params = isObj(body.parameters) ? body.parameters : {};
  const sampling = checkSampling(params);
  if (isFaultError(sampling)) return sampling;
  const resultFormat = params.result_format === 'message' ? 'message' : 'text';
  const incremental = params.incremental_output === true;
  const thinking = params.enable_thinking === true;
  // §2 table: thinking needs streaming with incremental output.
  if (thinking && !stream) return invalidParameter('parameter.enable_thinking must be set to false for non-streaming calls');
  if (thinking && !incremental) return invalidParameter('parameter.incremental_output must be set to true when enable_thinking is true');
  return { messages, resultFormat, incremental, thinking, ...sampling };
}

function usageOf(plan: AnswerPlan, outputTokens: number, final: boolean): Obj {
  const usage: Obj = { total_tokens: plan.inputTokens + outputTokens, input_tokens: plan.inputTokens, output_tokens: outputTokens };
  if (final && plan.reasoningTokens > 0) usage.output_tokens_details = { reasoning_tokens: plan.reasoningTokens };
  return usage;
}

function outputOf(request: NativeRequest, content: string, reasoning: string, finishReason: string): Obj {
  if (request.resultFormat === 'text') return { finish_reason: finishReason, text: content };
  const message: Obj = { content, role: 'assistant' };
  if (request.thinking) message.reasoning_content = reasoning;
  return { choices: [{ message, finish_reason: finishReason }] };
}

function completeBody(x: Exchange, request: NativeRequest, plan: AnswerPlan): Obj {
  return {
    output: outputOf(request, plan.content, plan.reasoning, plan.finishReason),
    usage: usageOf(plan, plan.outputTokens, true),
    request_id: x.requestId,
  };
}

/** Native errors: a JSON envelope with the status, or on streams HTTP 200 + `event:error` at id 1 (§3.1, §6). */
function sendNativeError(x: Exchange, error: FaultError, stream: boolean, framing: 'http' | 'sse', retryAfterSeconds?: number): void {
  const envelope = { code: error.code, message: error.message, request_id: x.requestId };
  const headers = dashscopeHeaders(x.requestId, x.arrivedAt, true);
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  // Auth and throttling never get SSE framing on the real service; only request validation does.
  if (stream && framing === 'sse' && error.status !== 401) {
    x.res.writeHead(200, { ...headers, 'content-type': 'text/event-stream;charset=UTF-8' });
    x.res.end(nativeSseEvent(1, 'error', error.status, envelope));
    x.record.status = 200;
    return;
  }
  sendJson(x.res, error.status, envelope, headers);
  x.record.status = error.status;
}

async function streamAnswer(
  x: Exchange,
  request: NativeRequest,
  plan: AnswerPlan,
  during: MidStreamFault | undefined,
): Promise<void> {
  const { res } = x;
  const options = x.sim.options;
  openEventStream(res, x.requestId, x.arrivedAt);
  x.record.status = 200;

  let id = 0;
  let content = '';
  let reasoning = '';
  const send = (event: 'result' | 'error', status: number, data: Obj): void => {
    id += 1;
    writeChunked(res, nativeSseEvent(id, event, status, data), options.writeChunkBytes);
  };

  // Mid-stream errors keep the running id and the stream's request id (§3.1; shape unconfirmed upstream).
  const strike = (during: MidStreamFault): Promise<boolean> =>
    strikeFault(x, during.action, ({ error }) => {
      send('error', error.status, { code: error.code, message: error.message, request_id: x.requestId });
      res.end();
    });

  for (const [index, delta] of plan.deltas.entries()) {
    if (during && x.record.deltasSent === during.afterDeltas && !(await strike(during))) return;
    if (!(await pause(index === 0 ? options.firstTokenDelayMs : options.tokenDelayMs, x.clientGone))) return;
    reasoning += delta.reasoning;
    content += delta.content;
    const shown = request.incremental ? delta.content : content;
    const shownReasoning = request.incremental ? delta.reasoning : reasoning;
    // While generating, finish_reason is the string "null" (§3).
    send('result', 200, {
      output: outputOf(request, shown, shownReasoning, 'null'),
      usage: usageOf(plan, delta.outputTokens, false),
      request_id: x.requestId,
    });
    x.record.deltasSent += 1;
  }
  // A fault set beyond the answer's length still fires, just before the final event.
  if (during && x.record.deltasSent <= during.afterDeltas && !(await strike(during))) return;
  if (!(await pause(options.tokenDelayMs, x.clientGone))) return;
  send('result', 200, {
    output: outputOf(request, request.incremental ? '' : content, request.incremental ? '' : reasoning, plan.finishReason),
    usage: usageOf(plan, plan.outputTokens, true),
    request_id: x.requestId,
  });
  // No [DONE] in native mode: closing the stream is the end marker (§3).
  res.end();
}
