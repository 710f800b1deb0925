import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleChatCompletions } from './compatible-mode.ts';
import type { Exchange, SimulatorRuntime } from './context.ts';
import { planFault, strikeFault, type ErrorAction } from './fault-actions.ts';
import { FaultBook, parseFaultSpec, validateFault, type SimulatorEndpoint, type SimulatorFault } from './faults.ts';
import { BodyTooLargeError, dashscopeHeaders, dropConnection, newRequestId, pause, readBody, sendJson, untilAborted } from './http.ts';
import { ImageTaskStore } from './image-tasks.ts';
import { validateSimulatorOptions, withSimulatorDefaults } from './options.ts';
import { handleTextGeneration } from './text-generation.ts';
import type { DashScopeSimulator, DashScopeSimulatorOptions, RecordedRequest } from './types.ts';

const BODY_LIMIT_BYTES = 8 * 1024 * 1024;
const FAULT_DIRECTIVE = /\[sim-fault:([^\]]+)\]/;
const ADMIN_PREFIX = '/__simulator/';

type Route =
  | { endpoint: 'generation' | 'compatible' | 'imageSynthesis' | 'taskList' }
  | { endpoint: 'taskQuery' | 'taskCancel'; taskId: string }
  | { endpoint: 'result' }
  | { endpoint: 'other' };

function route(method: string, path: string): Route {
  if (method === 'POST' && path === '/api/v1/services/aigc/text-generation/generation') return { endpoint: 'generation' };
  if (method === 'POST' && path === '/compatible-mode/v1/chat/completions') return { endpoint: 'compatible' };
  if (method === 'POST' && path === '/api/v1/services/aigc/text2image/image-synthesis') return { endpoint: 'imageSynthesis' };
  if (method === 'GET' && path === '/api/v1/tasks') return { endpoint: 'taskList' };
  const task = /^\/api\/v1\/tasks\/([^/]+)(\/cancel)?$/.exec(path);
  if (task?.[1]) {
    if (method === 'GET' && !task[2]) return { endpoint: 'taskQuery', taskId: decodeURIComponent(task[1]) };
    if (method === 'POST' && task[2]) return { endpoint: 'taskCancel', taskId: decodeURIComponent(task[1]) };
  }
  if (method === 'GET' && path.startsWith('/results/')) return { endpoint: 'result' };
  return { endpoint: 'other' };
}

/**
 * Starts a local DashScope that the real client cannot tell apart from the service for what we use: native chat
 * (SSE and one-shot), OpenAI-compatible chat, async image synthesis with task polling, and result downloads.
 * Everything it does follows docs/dashscope.md; where that doc says "unconfirmed", the behaviour is an
 * option or a documented guess.
 *
 * Test hooks: `setFaults` rules, the `x-simulator-fault` request header, a `[sim-fault:<spec>]` directive in the
 * last user message, trigger words for moderation, and admin routes under `/__simulator/` (`GET requests`,
 * `PUT faults`, `POST reset`, `POST clock {"advanceMs":n}`) for tests that run it as a separate process.
 */
export async function startDashScopeSimulator(options: DashScopeSimulatorOptions = {}): Promise<DashScopeSimulator> {
  const config = validateSimulatorOptions(withSimulatorDefaults(options));
  const faults = new FaultBook();
  faults.set(config.faults);
  const tasks = new ImageTaskStore();
  const requests: RecordedRequest[] = [];
  let clockOffsetMs = 0;
  let origin = '';

  const runtime: SimulatorRuntime = {
    options: config,
    now: () => Date.now() + clockOffsetMs,
    publicUrl: () => config.publicUrl ?? origin,
    urlSecret: randomBytes(32),
  };

  const reset = (): void => {
    requests.length = 0;
    faults.set([]);
    tasks.reset();
    clockOffsetMs = 0;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the simulator must look like a DashScope 500, never hang the client.
      if (!res.headersSent) {
        sendJson(res, 500, { code: 'InternalError', message: `simulator failure: ${String(error)}`, request_id: newRequestId() });
      } else {
        res.destroy();
      }
    });
  });
  // Each SSE event must leave as its own packet; Nagle would batch them and blur the timing tests rely on.
  server.on('connection', (socket) => socket.setNoDelay(true));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    const method = req.method ?? 'GET';

    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      await handleAdmin(req, res, url.pathname.slice(ADMIN_PREFIX.length), method);
      return;
    }

    const target = route(method, url.pathname);
    const requestId = newRequestId();
    let rawBody = '';
    let tooLarge = false;
    try {
      rawBody = method === 'GET' || method === 'HEAD' ? '' : await readBody(req, BODY_LIMIT_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      tooLarge = true;
    }
    let body: unknown;
    let bodyError: string | undefined;
    if (rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
        bodyError = 'The request body is not valid JSON.';
      }
    }

    const record: RecordedRequest = {
      requestId,
      method,
      url: `${url.pathname}${url.search}`,
      endpoint: target.endpoint,
      headers: redactForeignKey(req.headers, config.apiKeys),
      body,
      receivedAt: arrivedAt,
      stream: false,
      fault: undefined,
      status: undefined,
      deltasSent: 0,
      outcome: 'pending',
      endedAt: undefined,
    };
    requests.push(record);
    if (requests.length > config.maxRecordedRequests) requests.splice(0, requests.length - config.maxRecordedRequests);

    const gone = new AbortController();
    res.on('close', () => {
      record.endedAt = Date.now();
      if (record.outcome === 'pending') record.outcome = res.writableFinished ? 'completed' : 'client-closed';
      if (!res.writableFinished) gone.abort();
    });

    if (target.endpoint === 'result') {
      tasks.serveResult(makeExchange(undefined));
      return;
    }
    if (target.endpoint === 'other') {
      const { status, code } = config.unknownPath;
      sendJson(res, status, { request_id: requestId, code, message: `No route for ${method} ${url.pathname}` }, dashscopeHeaders(requestId, arrivedAt, true));
      record.status = status;
      return;
    }
    if (tooLarge) {
      sendJson(res, 413, { request_id: requestId, code: 'BadRequest.TooLarge', message: 'Payload Too Large' }, dashscopeHeaders(requestId, arrivedAt, true));
      record.status = 413;
      return;
    }

    const fault = pickFault(req, body, target.endpoint);
    if (typeof fault === 'string') {
      // A malformed test hook is a test bug: say so loudly instead of silently serving a normal answer.
      sendJson(res, 400, { request_id: requestId, code: 'InvalidParameter', message: `simulator: ${fault}` });
      record.status = 400;
      return;
    }
    record.fault = fault;

    // Auth comes first on the real service: a bad key never reaches validation (§9.2).
    const key = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]?.trim();
    if (!key || !config.apiKeys.includes(key) || fault?.kind === 'badKey') {
      sendAuthError(res, target.endpoint === 'compatible', requestId, arrivedAt);
      record.status = 401;
      return;
    }

    function makeExchange(exchangeFault: SimulatorFault | undefined): Exchange {
      return { req, res, url, record, requestId, arrivedAt, body, bodyError, fault: exchangeFault, clientGone: gone.signal, sim: runtime };
    }

    switch (target.endpoint) {
      case 'generation':
        await handleTextGeneration(makeExchange(fault));
        return;
      case 'compatible':
        await handleChatCompletions(makeExchange(fault));
        return;
      case 'imageSynthesis':
      case 'taskQuery':
      case 'taskCancel':
      case 'taskList': {
        const x = makeExchange(fault);
        const { before } = planFault(fault, false);
        if (before && !(await strikeFault(x, before, (action) => sendPlainError(x, action)))) return;
        if (target.endpoint === 'imageSynthesis') {
          if (fault?.kind === 'lostAnswer') {
            // Accepted, answer lost: the task runs, the client never learns its id.
            if (tasks.submit(x, true)) {
              x.record.outcome = 'dropped';
              if (fault.ms === undefined) await untilAborted(x.clientGone);
              else if (await pause(fault.ms, x.clientGone)) await dropConnection(x.res);
            }
            return;
          }
          tasks.submit(x);
        }
        else if (target.endpoint === 'taskList') tasks.list(x);
        else if (target.endpoint === 'taskQuery') tasks.query(x, target.taskId);
        else if (target.endpoint === 'taskCancel') tasks.cancel(x, target.taskId);
        return;
      }
    }
  }

  /** Header beats prompt directive beats `setFaults` rules; header and directive do not spend a rule. */
  function pickFault(req: IncomingMessage, body: unknown, endpoint: SimulatorEndpoint): SimulatorFault | string | undefined {
    const header = req.headers['x-simulator-fault'];
    if (typeof header === 'string' && header.trim() !== '') return parseFaultSpec(header);
    const directive = FAULT_DIRECTIVE.exec(lastUserText(body));
    if (directive?.[1]) return parseFaultSpec(directive[1]);
    return faults.take(endpoint);
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, action: string, method: string): Promise<void> {
    const raw = method === 'GET' ? '' : await readBody(req, BODY_LIMIT_BYTES);
    let payload: unknown;
    try {
      payload = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      sendJson(res, 400, { error: 'body must be JSON' });
      return;
    }
    if (method === 'GET' && action === 'requests') {
      sendJson(res, 200, requests);
    } else if (method === 'PUT' && action === 'faults') {
      const list = Array.isArray(payload) ? payload : [];
      const problems = list.map((f) => validateFault(f)).filter((v): v is string => typeof v === 'string');
      if (problems.length > 0) {
        sendJson(res, 400, { error: problems.join('; ') });
        return;
      }
      faults.set(list as SimulatorFault[]);
      sendJson(res, 200, { faults: list.length });
    } else if (method === 'POST' && action === 'reset') {
      reset();
      sendJson(res, 200, { reset: true });
    } else if (method === 'POST' && action === 'clock') {
      const advanceMs = typeof payload === 'object' && payload !== null ? Number((payload as { advanceMs?: unknown }).advanceMs) : NaN;
      if (!Number.isFinite(advanceMs) || advanceMs < 0) {
        sendJson(res, 400, { error: 'advanceMs must be a number >= 0' });
        return;
      }
      clockOffsetMs += advanceMs;
      sendJson(res, 200, { clockOffsetMs });
    } else {
      sendJson(res, 404, { error: `unknown admin route ${method} ${action}` });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: origin,
    baseUrl: `${origin}/api/v1`,
    compatibleBaseUrl: `${origin}/compatible-mode/v1`,
    port,
    apiKey: config.apiKeys[0] ?? '',
    requests,
    setFaults: (list) => faults.set(list),
    advanceClock: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`dashscope simulator: advanceClock needs ms >= 0, got ${ms}`);
      clockOffsetMs += ms;
    },
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Stalled streams would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}

/** An error fault on the image/task endpoints: DashScope's plain JSON envelope. */
function sendPlainError(x: Exchange, { error, retryAfterSeconds }: ErrorAction): void {
  const headers = dashscopeHeaders(x.requestId, x.arrivedAt, true);
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  sendJson(x.res, error.status, { request_id: x.requestId, code: error.code, message: error.message }, headers);
  x.record.status = error.status;
}

function sendAuthError(res: ServerResponse, compatible: boolean, requestId: string, arrivedAt: number): void {
  const headers = dashscopeHeaders(requestId, arrivedAt, true);
  if (compatible) {
    sendJson(
      res,
      401,
      {
        error: { message: 'Incorrect API key provided. ', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
        request_id: requestId,
      },
      headers,
    );
    return;
  }
  sendJson(res, 401, { code: 'InvalidApiKey', message: 'Invalid API-key provided.', request_id: requestId }, headers);
}

/**
 * The log (and `/__simulator/requests`) keeps simulator keys as sent, but a key the simulator does not know may be a
 * real one pointed here by mistake: it is never stored.
 */
function redactForeignKey(headers: IncomingHttpHeaders, keys: readonly string[]): IncomingHttpHeaders {
  const auth = headers.authorization;
  if (auth === undefined) return headers;
  const key = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
  return key !== undefined && keys.includes(key) ? headers : { ...headers, authorization: 'Bearer <redacted>' };
}

function lastUserText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as { input?: { messages?: unknown; prompt?: unknown }; messages?: unknown };
  const messages = Array.isArray(b.input?.messages) ? b.input.messages : Array.isArray(b.messages) ? b.messages : undefined;
  if (messages) {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as { role?: unknown; content?: unknown } | undefined;
      if (m?.role === 'user' && typeof m.content === 'string') return m.content;
    }
    return '';
  }
  return typeof b.input?.prompt === 'string' ? b.input.prompt : '';
}
