/** The simulator's API endpoints a fault can target. */
export type SimulatorEndpoint = 'generation' | 'compatible' | 'imageSynthesis' | 'taskQuery' | 'taskCancel' | 'taskList';

/**
 * What to break. Unless `afterDeltas` says otherwise, a fault strikes before the response starts.
 *
 * | kind | default effect |
 * |---|---|
 * | `badKey` | 401 `InvalidApiKey` (as if the key were wrong) |
 * | `throttle` | 429 `Throttling.RateQuota` (`code` may pick `Throttling.AllocationQuota` / `Throttling.BurstRate` / `Throttling`) |
 * | `inspection` | 400 `DataInspectionFailed` "Input data may contain inappropriate content." |
 * | `invalidParameter` | 400 `InvalidParameter` |
 * | `serverError` | 500 `InternalError` (`status: 503` gives `ModelUnavailable`) |
 * | `midStreamError` | after `afterDeltas` (default 3) deltas: `event:error`, `:HTTP_STATUS/400`, `DataInspectionFailed` "Output data may contain inappropriate content." |
 * | `disconnect` | destroys the socket (before the response, or after `afterDeltas` deltas) |
 * | `stall` | sends headers (and `afterDeltas` deltas), then goes silent for `ms` (default: until the client leaves) |
 * | `slowFirstByte` | waits `ms` (default 5 000) before answering normally |
 * | `taskFailed` | image task ends FAILED with `code` (default `InternalError`) |
 * | `partialFailure` | image task SUCCEEDED with `failedImages` (default 1) failed slots |
 * | `stuckRunning` | image task never leaves RUNNING |
 * | `lostAnswer` | image submit: the task IS created, but its answer never leaves — the socket stays silent until the client goes, or is dropped after `ms` (an unknown outcome for the client) |
 *
 * On a streaming request, `badKey`/`throttle`/`inspection`/`invalidParameter`/`serverError` with `afterDeltas > 0`
 * become a mid-stream `event:error` with their status and code. `framing: 'sse'` sends a before-stream error the
 * way DashScope sends request-validation failures on streams: HTTP 200 carrying one `event:error` (docs/dashscope.md
 * §3.1); `inspection` and `invalidParameter` default to that on streaming requests, the others to a plain HTTP error.
 */
export type SimulatorFaultKind =
  | 'badKey'
  | 'throttle'
  | 'inspection'
  | 'invalidParameter'
  | 'serverError'
  | 'midStreamError'
  | 'disconnect'
  | 'stall'
  | 'slowFirstByte'
  | 'taskFailed'
  | 'partialFailure'
  | 'stuckRunning'
  | 'lostAnswer';

export interface SimulatorFault {
  kind: SimulatorFaultKind;
  /** Streamed deltas before the fault strikes; see {@link SimulatorFaultKind}. */
  afterDeltas?: number;
  /** How many matching requests this rule breaks (for `setFaults`); default: every one until replaced. */
  times?: number;
  /** Endpoints the rule applies to; default depends on the kind (chat-only kinds: chat endpoints, task kinds: image submit, others: all). */
  endpoints?: readonly SimulatorEndpoint[];
  /** Overrides the HTTP / `:HTTP_STATUS` status. */
  status?: number;
  /** Overrides the DashScope error code. */
  code?: string;
  /** Overrides the DashScope error message. */
  message?: string;
  /** For errors before any delta on a streaming request: a plain HTTP error or HTTP 200 + `event:error`. */
  framing?: 'http' | 'sse';
  /** Sends a `Retry-After` header (DashScope itself documents none). */
  retryAfterSeconds?: number;
  /** `stall` / `slowFirstByte` duration. */
  ms?: number;
  /** `partialFailure`: failed image slots. */
  failedImages?: number;
}

const KINDS = new Set<string>([
  'badKey',
  'throttle',
  'inspection',
  'invalidParameter',
  'serverError',
  'midStreamError',
  'disconnect',
  'stall',
  'slowFirstByte',
  'taskFailed',
  'partialFailure',
  'stuckRunning',
  'lostAnswer',
]);

const CHAT: readonly SimulatorEndpoint[] = ['generation', 'compatible'];
const API: readonly SimulatorEndpoint[] = ['generation', 'compatible', 'imageSynthesis', 'taskQuery', 'taskCancel', 'taskList'];

function defaultEndpoints(kind: SimulatorFaultKind): readonly SimulatorEndpoint[] {
  switch (kind) {
    case 'midStreamError':
    case 'stall':
      return CHAT;
    case 'taskFailed':
    case 'partialFailure':
    case 'stuckRunning':
    case 'lostAnswer':
      return ['imageSynthesis'];
    case 'badKey':
    case 'throttle':
    case 'inspection':
    case 'invalidParameter':
    case 'serverError':
    case 'disconnect':
    case 'slowFirstByte':
      return API;
  }
}

function isSimulatorFaultKind(value: unknown): value is SimulatorFaultKind {
  return typeof value === 'string' && KINDS.has(value);
}

const NUMERIC_KEYS = new Set(['afterDeltas', 'times', 'status', 'retryAfterSeconds', 'ms', 'failedImages']);

/**
 * Parses the test-only fault spec used by the `x-simulator-fault` header and the `[sim-fault:…]` prompt directive:
 * either JSON (`{"kind":"throttle"}`) or `kind;key=value;…` (`midStreamError;afterDeltas=2;code=InternalError`).
 * Returns an error string for a malformed spec so the simulator can refuse it loudly.
 */
export function parseFaultSpec(spec: string): SimulatorFault | string {
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return `fault spec is not valid JSON: ${trimmed}`;
    }
    return validateFault(parsed);
  }
  const [kind, ...pairs] = trimmed.split(';').map((part) => part.trim());
  const fault: Record<string, unknown> = { kind };
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq === -1) return `fault spec parameter needs key=value: ${pair}`;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    fault[key] = NUMERIC_KEYS.has(key) ? Number(value) : key === 'endpoints' ? value.split(',') : value;
  }
  return validateFault(fault);
}

export function validateFault(value: unknown): SimulatorFault | string {
  if (typeof value !== 'object' || value === null) return 'fault must be an object';
  const fault = value as Record<string, unknown>;
  if (!isSimulatorFaultKind(fault.kind)) return `unknown fault kind ${JSON.stringify(fault.kind)}; expected one of ${[...KINDS].join(', ')}`;
  for (const key of NUMERIC_KEYS) {
    const n = fault[key];
    if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) return `fault ${key} must be a number >= 0`;
  }
  if (fault.framing !== undefined && fault.framing !== 'http' && fault.framing !== 'sse') return 'fault framing must be http or sse';
  if (fault.endpoints !== undefined) {
    if (!Array.isArray(fault.endpoints) || fault.endpoints.some((e) => !API.includes(e as SimulatorEndpoint))) {
      return `fault endpoints must be a list of ${API.join(', ')}`;
    }
  }
  return fault as unknown as SimulatorFault;
}

interface Rule {
  fault: SimulatorFault;
  remaining: number;
}

/** The `setFaults` rules: first matching rule with uses left wins, and one use is spent per matching request. */
export class FaultBook {
  #rules: Rule[] = [];

  set(faults: readonly SimulatorFault[]): void {
    this.#rules = faults.map((fault) => {
      const valid = validateFault(fault);
      if (typeof valid === 'string') throw new TypeError(`dashscope simulator: ${valid}`);
      return { fault: { ...valid }, remaining: valid.times ?? Number.POSITIVE_INFINITY };
    });
  }

  take(endpoint: SimulatorEndpoint): SimulatorFault | undefined {
    for (const rule of this.#rules) {
      if (rule.remaining <= 0) continue;
      if (!(rule.fault.endpoints ?? defaultEndpoints(rule.fault.kind)).includes(endpoint)) continue;
      rule.remaining -= 1;
      return rule.fault;
    }
    return undefined;
  }
}

/** Status, code and message of an error-type fault, with DashScope's documented texts (docs/dashscope.md §6). */
export interface FaultError {
  status: number;
  code: string;
  message: string;
}

export function faultError(fault: SimulatorFault, midStream: boolean): FaultError | undefined {
  const base = ((): FaultError | undefined => {
    switch (fault.kind) {
      case 'badKey':
        return { status: 401, code: 'InvalidApiKey', message: 'Invalid API-key provided.' };
      case 'throttle': {
        const code = fault.code ?? 'Throttling.RateQuota';
        const message =
          code === 'Throttling.AllocationQuota'
            ? 'Allocated quota exceeded, please increase your quota limit.'
            : code === 'Throttling.BurstRate'
              ? 'Request rate increased too quickly.'
              : 'Requests rate limit exceeded, please try again later.';
        return { status: 429, code, message };
      }
      case 'inspection':
      case 'midStreamError':
        return {
          status: 400,
          code: 'DataInspectionFailed',
          message: midStream || fault.kind === 'midStreamError' ? 'Output data may contain inappropriate content.' : 'Input data may contain inappropriate content.',
        };
      case 'invalidParameter':
        return { status: 400, code: 'InvalidParameter', message: 'The parameter is invalid (simulated).' };
      case 'serverError': {
        const status = fault.status ?? 500;
        return status === 503
          ? { status, code: 'ModelUnavailable', message: 'Model is unavailable, please try again later.' }
          : { status, code: 'InternalError', message: 'An internal error has occurred, please try again later.' };
      }
      case 'taskFailed':
        return { status: 500, code: 'InternalError', message: 'An internal error has occurred during execution, please try again later.' };
      case 'disconnect':
      case 'stall':
      case 'slowFirstByte':
      case 'partialFailure':
      case 'stuckRunning':
        return undefined;
    }
  })();
  if (!base) return undefined;
  return {
    status: fault.status ?? base.status,
    code: fault.code ?? base.code,
    message: fault.message ?? base.message,
  };
}
