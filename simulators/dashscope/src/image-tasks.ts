import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Exchange } from './context.ts';
import type { FaultError, SimulatorFault } from './faults.ts';
import { chinaTimestamp, dashscopeHeaders, sendJson } from './http.ts';
import { renderPlaceholderPng } from './png.ts';
import { isChinese } from './reply.ts';

export type TaskStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'UNKNOWN';

interface ImageTask {
  id: string;
  model: string;
  prompt: string;
  width: number;
  height: number;
  n: number;
  seed: number;
  promptExtend: boolean;
  submittedAt: number;
  canceledAt: number | undefined;
  /** `taskFailed` / `partialFailure` / `stuckRunning`, decided at submit time. */
  fault: SimulatorFault | undefined;
}

interface TaskView {
  status: TaskStatus;
  succeeded: number;
  failed: number;
  scheduledAt: number | undefined;
  endedAt: number | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const WANX_V1_SIZES = new Set(['1024*1024', '720*1280', '1280*720', '768*1152']);
const PNG_CACHE_SIZE = 32;

/**
 * The async image-synthesis flow of docs/dashscope.md §5 and §9.9–9.12: submit → PENDING → RUNNING → SUCCEEDED / FAILED,
 * cancel while PENDING, listing, and signed, expiring result URLs that serve real PNGs. State is derived from the
 * simulator clock at read time, so `advanceClock` moves every task without timers.
 */
export class ImageTaskStore {
  readonly #tasks = new Map<string, ImageTask>();
  readonly #pngCache = new Map<string, Buffer>();

  reset(): void {
    this.#tasks.clear();
    this.#pngCache.clear();
  }

  /**
   * `POST /api/v1/services/aigc/text2image/image-synthesis`. Returns whether a task was created. `withholdAnswer`
   * (the `lostAnswer` fault): the task is created but its answer is not sent — the caller holds the exchange.
   */
  submit(x: Exchange, withholdAnswer = false): boolean {
    // §5.1: the endpoint is async-only; without the header the real service refuses (status/code unconfirmed).
    if (String(x.req.headers['x-dashscope-async'] ?? '').toLowerCase() !== 'enable') {
      sendError(x, { status: 403, code: 'AccessDenied', message: 'current user api does not support synchronous calls' });
      return false;
    }
    const parsed = this.#parseSubmit(x);
    if ('status' in parsed) {
      sendError(x, parsed);
      return false;
    }
    const now = x.sim.now();
    const active = [...this.#tasks.values()].filter((t) => t.model === parsed.model && isActive(this.#view(x, t, now).status)).length;
    if (active >= x.sim.options.maxConcurrentTasksPerModel) {
      sendError(x, { status: 429, code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' });
      return false;
    }
    const task: ImageTask = { ...parsed, id: randomUUID(), submittedAt: now, canceledAt: undefined, fault: x.fault };
    this.#tasks.set(task.id, task);
    if (withholdAnswer) return true;
    sendJson(x.res, 200, { output: { task_status: 'PENDING', task_id: task.id }, request_id: x.requestId }, dashscopeHeaders(x.requestId, x.arrivedAt, true));
    x.record.status = 200;
    return true;
  }

  /** `GET /api/v1/tasks/{id}`: unknown and expired ids are HTTP 200 `UNKNOWN` (§5.2). */
  query(x: Exchange, taskId: string): void {
    const task = this.#tasks.get(taskId);
    const now = x.sim.now();
    const headers = dashscopeHeaders(x.requestId, x.arrivedAt, true);
    x.record.status = 200;
    if (!task || this.#view(x, task, now).status === 'UNKNOWN') {
      sendJson(x.res, 200, { request_id: x.requestId, output: { task_id: taskId, task_status: 'UNKNOWN' } }, headers);
      return;
    }
    sendJson(x.res, 200, this.#describe(x, task, now), headers);
  }

  /** `POST /api/v1/tasks/{id}/cancel`: only PENDING tasks can be cancelled (§5.3). */
  cancel(x: Exchange, taskId: string): void {
    const task = this.#tasks.get(taskId);
    const now = x.sim.now();
    if (!task || this.#view(x, task, now).status !== 'PENDING') {
      sendError(x, {
        status: 400,
        code: 'UnsupportedOperation',
        message: 'Failed to cancel the task, please confirm if the task is in PENDING status.',
      });
      return;
    }
    task.canceledAt = now;
    sendJson(x.res, 200, { request_id: x.requestId }, dashscopeHeaders(x.requestId, x.arrivedAt, true));
    x.record.status = 200;
  }

  /** `GET /api/v1/tasks?status=&model_name=&page_no=&page_size=` (§5.3). */
  list(x: Exchange): void {
    const now = x.sim.now();
    const q = x.url.searchParams;
    const pageNo = Math.max(1, Number(q.get('page_no') ?? 1) || 1);
    const pageSize = Math.min(100, Math.max(1, Number(q.get('page_size') ?? 10) || 10));
    // start_time / end_time: `YYYYMMDDhhmmss` in China time, as the SDK documents them.
    const from = parseListTime(q.get('start_time'));
    const to = parseListTime(q.get('end_time'));
    if (from === null || to === null) {
      sendError(x, invalid('start_time and end_time must be written as YYYYMMDDhhmmss'));
      return;
    }
    const rows = [...this.#tasks.values()]
      .map((task) => ({ task, view: this.#view(x, task, now) }))
      .filter(({ task, view }) => view.status !== 'UNKNOWN' && (!q.get('status') || q.get('status') === view.status) && (!q.get('model_name') || q.get('model_name') === task.model))
      // Whole seconds, as the parameters are: a task created at 12:00:00.700 is in a window ending at 12:00:00.
      .filter(({ task }) => (from === undefined || task.submittedAt >= from) && (to === undefined || Math.floor(task.submittedAt / 1000) * 1000 <= to))
      .sort((a, b) => b.task.submittedAt - a.task.submittedAt);
    const data = rows.slice((pageNo - 1) * pageSize, pageNo * pageSize).map(({ task, view }) => ({
      task_id: task.id,
      status: view.status,
      model_name: task.model,
      region: 'cn-beijing',
      gmt_create: task.submittedAt,
      start_time: view.scheduledAt ?? null,
      end_time: view.endedAt ?? null,
      request_id: x.requestId,
    }));
    sendJson(
      x.res,
      200,
      { total: rows.length, total_page: Math.ceil(rows.length / pageSize), page_no: pageNo, page_size: pageSize, request_id: x.requestId, data },
      dashscopeHeaders(x.requestId, x.arrivedAt, true),
    );
    x.record.status = 200;
  }

  /**
   * `GET /results/{yyyymmdd}/{taskId}-{n}.png?Expires=&OSSAccessKeyId=&Signature=` — a stand-in for the signed OSS
   * URL (§5.2): wrong signature or past `Expires` → 403 as OSS answers, so callers must re-host promptly.
   */
  serveResult(x: Exchange): void {
    const match = /^\/results\/\d{8}\/([0-9a-f-]{36})-(\d+)\.png$/.exec(x.url.pathname);
    const expires = Number(x.url.searchParams.get('Expires'));
    const signature = x.url.searchParams.get('Signature') ?? '';
    if (!match || !Number.isFinite(expires)) {
      sendOssError(x, 404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    const expected = Buffer.from(sign(x, x.url.pathname, expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      sendOssError(x, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
      return;
    }
    if (x.sim.now() > expires * 1000) {
      sendOssError(x, 403, 'AccessDenied', 'Request has expired.');
      return;
    }
    const task = this.#tasks.get(match[1] ?? '');
    const slot = Number(match[2]) - 1;
    if (!task || slot < 0 || slot >= task.n) {
      sendOssError(x, 404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    const png = this.#png(task, slot);
    x.res.writeHead(200, {
      'content-type': 'image/png',
      'content-length': String(png.length),
      'x-oss-request-id': x.requestId,
      'cache-control': 'no-cache',
    });
    x.res.end(png);
    x.record.status = 200;
  }

  #png(task: ImageTask, slot: number): Buffer {
    const key = `${task.id}:${slot}`;
    let png = this.#pngCache.get(key);
    if (!png) {
      png = renderPlaceholderPng(task.width, task.height, `${task.seed}:${task.prompt}:${slot}`);
      if (this.#pngCache.size >= PNG_CACHE_SIZE) {
        const oldest = this.#pngCache.keys().next().value;
        if (oldest !== undefined) this.#pngCache.delete(oldest);
      }
      this.#pngCache.set(key, png);
    }
    return png;
  }

  #parseSubmit(x: Exchange): Omit<ImageTask, 'id' | 'submittedAt' | 'canceledAt' | 'fault'> | FaultError {
    const options = x.sim.options;
    if (x.bodyError || !isObj(x.body)) return invalid(x.bodyError ?? 'The request body must be a JSON object.');
    const body = x.body;
    if (typeof body.model !== 'string' || body.model === '') {
      return { status: 400, code: 'BadRequest.EmptyModel', message: 'Required parameter "model" missing from request.' };
    }
    if (!options.imageModels.includes(body.model)) return { status: 404, code: 'ModelNotFound', message: 'Model not exist.' };
    if (!isObj(body.input)) return { status: 400, code: 'BadRequest.EmptyInput', message: 'Required input parameter missing from request.' };
    const { prompt, negative_prompt: negativePrompt } = body.input;
    if (typeof prompt !== 'string' || prompt.trim() === '') return invalid('Field required: input.prompt');
    if ([...prompt].length > 800) return invalid('Range of input length should be [1, 800]');
    if (negativePrompt !== undefined && (typeof negativePrompt !== 'string' || [...negativePrompt].length > 500)) {
      return invalid('Range of negative_prompt length should be [0, 500]');
    }
    // §5.1: a reference image (`ref_img`, a URL DashScope downloads) is a wanx-v1 parameter (message unconfirmed).
    const refImg = body.input.ref_img;
    if (refImg !== undefined) {
      if (body.model !== 'wanx-v1') return invalid(`ref_img is not supported by ${body.model}`);
      if (typeof refImg !== 'string' || !/^https?:\/\/\S+$/.test(refImg)) return invalid('ref_img must be an http or https URL');
    }
    // §5.1: ref_strength ([0, 1]) and ref_mode (repaint | refonly) go with ref_img in parameters (messages unconfirmed).
    const refParams = isObj(body.parameters) ? body.parameters : {};
    if (refParams.ref_strength !== undefined || refParams.ref_mode !== undefined) {
      if (refImg === undefined) return invalid('ref_strength and ref_mode need input.ref_img');
      const strength = refParams.ref_strength;
      if (strength !== undefined && (typeof strength !== 'number' || !(strength >= 0 && strength <= 1))) return invalid('ref_strength should be in [0.0, 1.0]');
      if (refParams.ref_mode !== undefined && refParams.ref_mode !== 'repaint' && refParams.ref_mode !== 'refonly') return invalid('ref_mode should be repaint or refonly');
    }
    const texts = [prompt, typeof negativePrompt === 'string' ? negativePrompt : ''];
    if (texts.some((text) => options.inspectionTriggers.some((t) => t !== '' && text.includes(t)))) {
      return { status: 400, code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' };
    }

    const params = isObj(body.parameters) ? body.parameters : {};
    const size = params.size ?? '1024*1024';
    const sizeMatch = typeof size === 'string' ? /^(\d+)\*(\d+)$/.exec(size) : null;
    if (!sizeMatch) return invalid('size must be written as "W*H", e.g. "1024*1024"');
    const width = Number(sizeMatch[1]);
    const height = Number(sizeMatch[2]);
    const sizeError = checkSize(body.model, width, height);
    if (sizeError) return invalid(sizeError);
    // §5.1 (third-party report): n defaults to 4.
    const n = params.n ?? 4;
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 4) return invalid('n should be in [1, 4]');
    const seed = params.seed ?? randomInt(0, 2_147_483_647);
    if (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 2_147_483_647) return invalid('seed should be in [0, 2147483647]');
    return {
      model: body.model,
      prompt,
      width,
      height,
      n: n as number,
      seed: seed as number,
      promptExtend: body.model !== 'wanx-v1' && params.prompt_extend !== false,
    };
  }

  #view(x: Exchange, task: ImageTask, now: number): TaskView {
    const { taskPendingMs, taskRunningMs, resultTtlMs } = x.sim.options;
    const scheduledAt = task.submittedAt + taskPendingMs;
    const endsAt = scheduledAt + taskRunningMs;
    if (now - task.submittedAt > resultTtlMs) return { status: 'UNKNOWN', succeeded: 0, failed: 0, scheduledAt: undefined, endedAt: undefined };
    if (task.canceledAt !== undefined) return { status: 'CANCELED', succeeded: 0, failed: 0, scheduledAt: undefined, endedAt: task.canceledAt };
    if (now < scheduledAt) return { status: 'PENDING', succeeded: 0, failed: 0, scheduledAt: undefined, endedAt: undefined };
    if (now < endsAt || task.fault?.kind === 'stuckRunning') {
      const progress = taskRunningMs === 0 ? 0 : Math.min(1, (now - scheduledAt) / taskRunningMs);
      // Images finish one by one; the last one only with the task itself.
      return { status: 'RUNNING', succeeded: Math.min(task.n - 1, Math.floor(task.n * progress)), failed: 0, scheduledAt, endedAt: undefined };
    }
    if (task.fault?.kind === 'taskFailed') return { status: 'FAILED', succeeded: 0, failed: task.n, scheduledAt, endedAt: endsAt };
    const failed = task.fault?.kind === 'partialFailure' ? Math.min(task.n, task.fault.failedImages ?? 1) : 0;
    // §5.2: a task with at least one image is SUCCEEDED; only a task with none is FAILED.
    if (failed >= task.n) return { status: 'FAILED', succeeded: 0, failed, scheduledAt, endedAt: endsAt };
    return { status: 'SUCCEEDED', succeeded: task.n - failed, failed, scheduledAt, endedAt: endsAt };
  }

  #describe(x: Exchange, task: ImageTask, now: number): Obj {
    const view = this.#view(x, task, now);
    const output: Obj = { task_id: task.id, task_status: view.status, submit_time: chinaTimestamp(task.submittedAt) };
    if (view.scheduledAt !== undefined) output.scheduled_time = chinaTimestamp(view.scheduledAt);
    if (view.endedAt !== undefined) output.end_time = chinaTimestamp(view.endedAt);
    if (view.status !== 'PENDING' && view.status !== 'CANCELED') {
      output.task_metrics = { TOTAL: task.n, SUCCEEDED: view.succeeded, FAILED: view.failed };
    }
    const body: Obj = { request_id: x.requestId, output };
    if (view.status === 'FAILED') {
      const code = task.fault?.code ?? (task.fault?.kind === 'partialFailure' ? 'DataInspectionFailed' : 'InternalError');
      output.code = code;
      output.message =
        task.fault?.message ??
        (code === 'DataInspectionFailed' ? 'Output data may contain inappropriate content.' : 'An internal error has occurred during execution, please try again later.');
    }
    if (view.status === 'SUCCEEDED' && view.endedAt !== undefined) {
      const expires = Math.floor((view.endedAt + x.sim.options.resultTtlMs) / 1000);
      const actual = task.promptExtend ? extendPrompt(task.prompt) : undefined;
      output.results = Array.from({ length: task.n }, (_, slot) => {
        // Failed slots come first so the successful ones keep contiguous numbers; shape from a third-party report, unconfirmed (§5.2).
        if (slot < view.failed) {
          return { code: task.fault?.code ?? 'DataInspectionFailed', message: task.fault?.message ?? 'Output data may contain inappropriate content.' };
        }
        const result: Obj = { orig_prompt: task.prompt };
        if (actual) result.actual_prompt = actual;
        result.url = resultUrl(x, task, slot, view.endedAt ?? now, expires);
        return result;
      });
      body.usage = { image_count: view.succeeded };
    }
    return body;
  }
}

function isActive(status: TaskStatus): boolean {
  return status === 'PENDING' || status === 'RUNNING';
}

/** `YYYYMMDDhhmmss` (China time) → epoch ms; undefined when absent, null when malformed. */
function parseListTime(value: string | null): number | null | undefined {
  if (value === null || value === '') return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - 8 * 3600_000;
}

function invalid(message: string): FaultError {
  return { status: 400, code: 'InvalidParameter', message };
}

/** Size rules per model family (docs/dashscope.md §5.1 parameter table). */
function checkSize(model: string, width: number, height: number): string | undefined {
  if (model === 'wanx-v1') return WANX_V1_SIZES.has(`${width}*${height}`) ? undefined : `size must be one of ${[...WANX_V1_SIZES].join(', ')}`;
  if (model.startsWith('wan2.5')) {
    const pixels = width * height;
    const ratio = width / height;
    if (pixels < 768 * 768 || pixels > 1440 * 1440 || ratio < 0.25 || ratio > 4) {
      return 'size must have between 768*768 and 1440*1440 pixels and an aspect ratio between 1:4 and 4:1';
    }
    return undefined;
  }
  return width < 512 || width > 1440 || height < 512 || height > 1440 ? 'width and height must each be in [512, 1440]' : undefined;
}

function extendPrompt(prompt: string): string {
  return isChinese(prompt) ? `${prompt}，细节丰富，光线柔和，构图均衡，高清画质。` : `${prompt}, highly detailed, soft natural light, balanced composition, high resolution.`;
}

function sign(x: Exchange, path: string, expires: number): string {
  return createHmac('sha1', x.sim.urlSecret).update(`${path}\n${expires}`).digest('base64');
}

function resultUrl(x: Exchange, task: ImageTask, slot: number, endedAt: number, expires: number): string {
  const day = chinaTimestamp(endedAt).slice(0, 10).replace(/-/g, '');
  const path = `/results/${day}/${task.id}-${slot + 1}.png`;
  const query = new URLSearchParams({ Expires: String(expires), OSSAccessKeyId: 'LTAI5tSimulatorKey', Signature: sign(x, path, expires) });
  return `${x.sim.publicUrl()}${path}?${query.toString()}`;
}

function sendError(x: Exchange, error: FaultError): void {
  sendJson(x.res, error.status, { request_id: x.requestId, code: error.code, message: error.message }, dashscopeHeaders(x.requestId, x.arrivedAt, true));
  x.record.status = error.status;
}

function sendOssError(x: Exchange, status: number, code: string, message: string): void {
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n` +
    `  <RequestId>${x.requestId}</RequestId>\n  <HostId>dashscope-result-bj.oss-cn-beijing.aliyuncs.com</HostId>\n</Error>\n`;
  x.res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) });
  x.res.end(xml);
  x.record.status = status;
}
