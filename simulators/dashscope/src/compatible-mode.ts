import { randomUUID } from 'node:crypto';
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
import { dashscopeHeaders, openEventStream, pause, sendJson, writeChunked } from './http.ts';
import type { ReplyMessage } from './reply.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface CompatRequest {
  model: string;
  messages: ReplyMessage[];
  stream: boolean;
  includeUsage: boolean;
  thinking: boolean;
  maxTokens: number | undefined;
  seed: number | undefined;
  stop: string[];
}

/** `POST /compatible-mode/v1/chat/completions` (docs/dashscope.md §4, §9.7). */
export async function handleChatCompletions(x: Exchange): Promise<void> {
  const body = isObj(x.body) ? x.body : {};
  const stream = body.stream === true;
  x.record.stream = stream;
  const faults = planFault(x.fault, stream);
  const sendError = ({ error, framing, retryAfterSeconds }: ErrorAction): void => sendCompatError(x, error, framing === 'sse' && stream, retryAfterSeconds);
  if (faults.before && !(await strikeFault(x, faults.before, sendError))) return;

  const request = parseCompatRequest(x, stream);
  if (isFaultError(request)) {
    sendCompatError(x, request, false);
    return;
  }
  const inspection = checkInputInspection(request.messages, x.sim.options);
  if (inspection) {
    sendCompatError(x, inspection, false);
    return;
  }
  const plan = planAnswer(
    { messages: request.messages, maxTokens: request.maxTokens, seed: request.seed, stop: request.stop, thinking: request.thinking },
    x.sim.options.minDeltas,
  );
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);

  if (!stream) {
    if (!(await pause(x.sim.options.firstTokenDelayMs, x.clientGone))) return;
    const message: Obj = { role: 'assistant', content: plan.content };
    if (request.thinking) message.reasoning_content = plan.reasoning;
    sendJson(
      x.res,
      200,
      {
        choices: [{ message, finish_reason: plan.finishReason, index: 0, logprobs: null }],
        object: 'chat.completion',
        usage: usage(plan),
        created,
        system_fingerprint: null,
        model: request.model,
        id,
      },
      dashscopeHeaders(x.requestId, x.arrivedAt, true),
    );
    x.record.status = 200;
    return;
  }

  const during = faults.during ?? (wantsOutputInspection(request.messages, x.sim.options) ? OUTPUT_INSPECTION_FAULT : undefined);
  await streamCompat(x, request, plan, id, created, during);
}

function parseCompatRequest(x: Exchange, stream: boolean): CompatRequest | FaultError {
  if (x.bodyError) return invalidParameter(x.bodyError);
  if (!isObj(x.body)) return invalidParameter('The request body must be a JSON object.');
  const body = x.body;
  const modelError = checkChatModel(body.model, x.sim.options);
  if (modelError) return modelError;
  const messages = checkMessages(body.messages);
  if (isFaultError(messages)) return messages;
  const tooLong = checkInputLength(messages, x.sim.options);
  if (tooLong) return tooLong;
  const sampling = checkSampling(body);
  if (isFaultError(sampling)) return sampling;
  const thinking = body.enable_thinking === true;
  if (thinking && !stream) return invalidParameter('parameter.enable_thinking must be set to false for non-streaming calls');
  const includeUsage = isObj(body.stream_options) && body.stream_options.include_usage === true;
  return { model: body.model as string, messages, stream, includeUsage, thinking, ...sampling };
}

function usage(plan: AnswerPlan): Obj {
  return {
    prompt_tokens: plan.inputTokens,
    completion_tokens: plan.outputTokens,
    total_tokens: plan.inputTokens + plan.outputTokens,
    prompt_tokens_details: { cached_tokens: 0 },
  };
}

/** Compatible-mode twins of native codes (§4): snake_case, with a few renamed. */
function compatCode(code: string): { code: string; type: string } {
  switch (code) {
    case 'InvalidApiKey':
      return { code: 'invalid_api_key', type: 'invalid_request_error' };
    case 'DataInspectionFailed':
      return { code: 'data_inspection_failed', type: 'data_inspection_failed' };
    case 'Throttling.AllocationQuota':
      return { code: 'insufficient_quota', type: 'insufficient_quota' };
    case 'InvalidParameter':
      return { code: 'invalid_parameter_error', type: 'invalid_request_error' };
    case 'ModelNotFound':
      return { code: 'model_not_found', type: 'invalid_request_error' };
    default:
      // §4: some throttling bodies keep native codes such as Throttling.RateQuota.
      if (code.startsWith('Throttling')) return { code, type: 'limit_requests' };
      return {
        code: code.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(),
        type: code.startsWith('Internal') || code.startsWith('Model') ? 'internal_error' : 'invalid_request_error',
      };
  }
}

function compatErrorBody(error: FaultError): Obj {
  const { code, type } = compatCode(error.code);
  return { error: { message: error.message, type, param: null, code } };
}

function sendCompatError(x: Exchange, error: FaultError, sseBody: boolean, retryAfterSeconds?: number): void {
  const headers = dashscopeHeaders(x.requestId, x.arrivedAt, true);
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  const body = { ...compatErrorBody(error), request_id: x.requestId };
  x.record.status = error.status;
  if (sseBody) {
    // §4 (third-party report): streaming requests refused up front with the error status and an SSE-framed body.
    x.res.writeHead(error.status, { ...headers, 'content-type': 'text/event-stream;charset=UTF-8' });
    x.res.end(`data: ${JSON.stringify(body)}\n\n`);
    return;
  }
  sendJson(x.res, error.status, body, headers);
}

async function streamCompat(
  x: Exchange,
  request: CompatRequest,
  plan: AnswerPlan,
  id: string,
  created: number,
  during: MidStreamFault | undefined,
): Promise<void> {
  const { res } = x;
  const options = x.sim.options;
  openEventStream(res, x.requestId, x.arrivedAt);
  x.record.status = 200;

  const frame = (data: unknown): void => writeChunked(res, `data: ${JSON.stringify(data)}\n\n`, options.writeChunkBytes);
  const chunk = (delta: Obj, finishReason: string | null, usageValue: Obj | null = null, choices = true): void =>
    frame({
      choices: choices ? [{ delta, finish_reason: finishReason, index: 0, logprobs: null }] : [],
      object: 'chat.completion.chunk',
      usage: usageValue,
      created,
      system_fingerprint: null,
      model: request.model,
      id,
    });

  // §4 (third-party report): a bare error chunk after partial content; whether [DONE] follows is unconfirmed, so none is sent.
  const strike = (during: MidStreamFault): Promise<boolean> =>
    strikeFault(x, during.action, ({ error }) => {
      frame(compatErrorBody(error));
      res.end();
    });

  // §4: the first chunk announces the role with empty content.
  chunk({ content: '', role: 'assistant' }, null);
  for (const [index, delta] of plan.deltas.entries()) {
    if (during && x.record.deltasSent === during.afterDeltas && !(await strike(during))) return;
    if (!(await pause(index === 0 ? options.firstTokenDelayMs : options.tokenDelayMs, x.clientGone))) return;
    chunk(delta.reasoning ? { content: null, reasoning_content: delta.reasoning } : { content: delta.content }, null);
    x.record.deltasSent += 1;
  }
  if (during && x.record.deltasSent <= during.afterDeltas && !(await strike(during))) return;
  if (!(await pause(options.tokenDelayMs, x.clientGone))) return;
  chunk({ content: '' }, plan.finishReason);
  // Usage only on request, as one extra chunk with no choices (§4).
  if (request.includeUsage) chunk({}, null, usage(plan), false);
  res.end('data: [DONE]\n\n');
}
