import { mapUpstreamError, networkError, parseRetryAfter, protocolError, timeoutError } from './error-mapping.ts';
import { DashScopeError } from './errors.ts';
import { parseErrorEnvelope } from './wire.ts';

/**
 * DashScope's asynchronous Wanxiang image synthesis (docs/dashscope.md §5): submit a task, poll it, cancel it while
 * PENDING, download its results. One HTTP attempt per call: the caller (the image worker) owns retries, because a
 * lost submit answer is an unknown outcome that must never be resubmitted blindly.
 */

export type ImageTaskStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'UNKNOWN' | 'SUSPENDED';

export interface ImageTaskRequest {
  model: string;
  prompt: string;
  negativePrompt?: string | null;
  /** `"W*H"`. */
  size: string;
  n: number;
  seed?: number | null;
  /** Reference image URL (image-to-image / style models). */
  refImageUrl?: string | null;
  /** How strongly the reference shapes the result, 0..1 (`ref_strength`; wanx-v1, with refImageUrl). */
  refStrength?: number | null;
  /** `repaint` (the reference's content) or `refonly` (its style only) (`ref_mode`; wanx-v1, with refImageUrl). */
  refMode?: string | null;
}

export interface ImageTaskResult {
  /** Present for a produced image; absent for a failed slot. */
  url?: string;
  /** The prompt as submitted (`orig_prompt`), on a produced image. */
  origPrompt?: string;
  /** A failed slot's error (e.g. `DataInspectionFailed`). */
  code?: string;
  message?: string;
}

export interface ImageTaskState {
  taskId: string;
  status: ImageTaskStatus;
  results: ImageTaskResult[];
  /** task_metrics: images asked for / produced / failed so far. */
  total: number | undefined;
  succeeded: number | undefined;
  failed: number | undefined;
  /** For a FAILED task: DashScope's code and message. */
  code: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
}

/** One row of `GET /tasks` (docs/dashscope.md §5.3). */
export interface ListedImageTask {
  taskId: string;
  status: ImageTaskStatus;
  model: string | undefined;
  /** `gmt_create`, epoch milliseconds. */
  createdAt: number | undefined;
}

export interface ListImageTasksQuery {
  model: string;
  /** Tasks created from this instant… */
  from: Date;
  /** …to this one (both sent as DashScope's `YYYYMMDDhhmmss`, China time, and checked again on `gmt_create`). */
  to: Date;
  /** Pages of 100 read at most. Default 10. */
  maxPages?: number;
}

export interface DashScopeImageClientOptions {
  /** Native API base, e.g. https://dashscope.aliyuncs.com/api/v1. */
  baseUrl: string;
  apiKey: string;
  workspace?: string;
  /** One HTTP call may take this long. Default 30000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface DashScopeImageClient {
  /** Submits one task; resolves with its id. DashScopeError on refusal (CONTENT_REJECTED for data inspection). */
  submit(request: ImageTaskRequest, signal?: AbortSignal): Promise<{ taskId: string; requestId: string | undefined }>;
  get(taskId: string, signal?: AbortSignal): Promise<ImageTaskState>;
  /** Cancels a PENDING task: true when cancelled, false when DashScope says it is no longer PENDING. */
  cancel(taskId: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * The account's tasks of one model created in a time window (`GET /tasks`), newest first: how a runner finds the
   * task of a submit whose answer it never got (DashScope has no idempotency key for submits).
   */
  listTasks(query: ListImageTasksQuery, signal?: AbortSignal): Promise<ListedImageTask[]>;
  /** Downloads one result URL (DashScope's URLs are signed OSS URLs valid for about 24 h). */
  download(url: string, signal?: AbortSignal): Promise<{ bytes: Buffer; contentType: string | undefined }>;
}

const SUBMIT_PATH = '/services/aigc/text2image/image-synthesis';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function createDashScopeImageClient(options: DashScopeImageClientOptions): DashScopeImageClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? fetch;
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    Authorization: `Bearer ${options.apiKey}`,
    Accept: 'application/json',
    ...(options.workspace ? { 'X-DashScope-WorkSpace': options.workspace } : {}),
    ...extra,
  });

  async function call(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<{ payload: Obj; requestId: string | undefined }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, { ...init, signal: combined });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw timeoutError(timeoutMs, 'response body');
      throw networkError(error);
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    if (response.status !== 200) {
      const envelope = parseErrorEnvelope(payload);
      throw mapUpstreamError({
        status: response.status,
        code: envelope.code,
        message: envelope.message,
        requestId: envelope.requestId ?? requestId,
        retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    if (!isObj(payload)) throw protocolError('DashScope answered a task call with something that is not JSON', requestId);
    return { payload, requestId: str(payload.request_id) ?? requestId };
  }

  return {
    async submit(request, signal) {
      const body = {
        model: request.model,
        input: {
          prompt: request.prompt,
          ...(request.negativePrompt ? { negative_prompt: request.negativePrompt } : {}),
          ...(request.refImageUrl ? { ref_img: request.refImageUrl } : {}),
        },
        parameters: {
          size: request.size,
          n: request.n,
          ...(request.seed != null ? { seed: request.seed } : {}),
          ...(request.refImageUrl && request.refStrength != null ? { ref_strength: request.refStrength } : {}),
          ...(request.refImageUrl && request.refMode ? { ref_mode: request.refMode } : {}),
        },
      };
      const { payload, requestId } = await call(
        `${baseUrl}${SUBMIT_PATH}`,
        { method: 'POST', headers: headers({ 'Content-Type': 'application/json', 'X-DashScope-Async': 'enable' }), body: JSON.stringify(body) },
        signal,
      );
      const taskId = isObj(payload.output) ? str(payload.output.task_id) : undefined;
      if (!taskId) throw protocolError('DashScope accepted an image task without a task_id', requestId);
      return { taskId, requestId };
    },

    async get(taskId, signal) {
      const { payload, requestId } = await call(`${baseUrl}/tasks/${encodeURIComponent(taskId)}`, { method: 'GET', headers: headers() }, signal);
      const output = isObj(payload.output) ? payload.output : {};
      const metrics = isObj(output.task_metrics) ? output.task_metrics : {};
      const results = Array.isArray(output.results)
        ? output.results.filter(isObj).map((r) => ({ url: str(r.url), origPrompt: str(r.orig_prompt), code: str(r.code), message: str(r.message) }))
        : [];
      return {
        taskId: str(output.task_id) ?? taskId,
        status: (str(output.task_status) ?? 'UNKNOWN') as ImageTaskStatus,
        results,
        total: num(metrics.TOTAL),
        succeeded: num(metrics.SUCCEEDED),
        failed: num(metrics.FAILED),
        code: str(output.code),
        message: str(output.message),
        requestId,
      };
    },

    async cancel(taskId, signal) {
      try {
        await call(`${baseUrl}/tasks/${encodeURIComponent(taskId)}/cancel`, { method: 'POST', headers: headers() }, signal);
        return true;
      } catch (error) {
        if (error instanceof DashScopeError && error.status === 400) return false;
        throw error;
      }
    },

    async listTasks(query, signal) {
      const tasks: ListedImageTask[] = [];
      const maxPages = query.maxPages ?? 10;
      for (let page = 1; page <= maxPages; page++) {
        const params = new URLSearchParams({
          model_name: query.model,
          start_time: chinaListTime(query.from),
          end_time: chinaListTime(query.to),
          page_no: String(page),
          page_size: '100',
        });
        const { payload } = await call(`${baseUrl}/tasks?${params.toString()}`, { method: 'GET', headers: headers() }, signal);
        const rows = Array.isArray(payload.data) ? payload.data.filter(isObj) : [];
        for (const row of rows) {
          const taskId = str(row.task_id);
          if (!taskId) continue;
          const createdAt = num(row.gmt_create);
          // The window is checked here too: the time parameters' exact semantics are not documented.
          if (createdAt !== undefined && (createdAt < query.from.getTime() || createdAt > query.to.getTime())) continue;
          tasks.push({ taskId, status: (str(row.status) ?? 'UNKNOWN') as ImageTaskStatus, model: str(row.model_name), createdAt });
        }
        const totalPages = num(payload.total_page) ?? 1;
        if (page >= totalPages || rows.length === 0) break;
      }
      return tasks;
    },

    async download(url, signal) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await doFetch(url, { signal: combined });
        if (response.status !== 200) {
          await response.body?.cancel();
          throw mapUpstreamError({ status: response.status, code: response.status === 403 ? 'ResultExpired' : undefined, message: `result download answered ${response.status}` });
        }
        return { bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? undefined };
      } catch (error) {
        if (error instanceof DashScopeError) throw error;
        if (signal?.aborted) throw signal.reason;
        if (timeout.aborted) throw timeoutError(timeoutMs, 'response body');
        throw networkError(error);
      }
    },
  };
}

/** `YYYYMMDDhhmmss` in China time (UTC+8), the format of the task list's start_time / end_time (docs/dashscope.md §5.3). */
function chinaListTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}
