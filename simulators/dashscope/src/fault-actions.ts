import type { Exchange } from './context.ts';
import { faultError, type FaultError, type SimulatorFault } from './faults.ts';
import { dropConnection, pause, untilAborted } from './http.ts';

export type FaultAction =
  | { type: 'error'; error: FaultError; framing: 'http' | 'sse'; retryAfterSeconds: number | undefined }
  | { type: 'disconnect' }
  /** Go silent for `ms`, or until the client leaves when undefined. */
  | { type: 'stall'; ms: number | undefined }
  | { type: 'delay'; ms: number };

export type ErrorAction = Extract<FaultAction, { type: 'error' }>;

/** A fault that strikes once `afterDeltas` deltas are out (streaming only; `delay` never appears here). */
export interface MidStreamFault {
  afterDeltas: number;
  action: FaultAction;
}

export interface FaultPlan {
  /** Strikes before the response starts. */
  before: FaultAction | undefined;
  during: MidStreamFault | undefined;
}

/** Output moderation tripped by a trigger word: DashScope ends the stream with `DataInspectionFailed` (docs/dashscope.md §6). */
export const OUTPUT_INSPECTION_FAULT: MidStreamFault = {
  afterDeltas: 3,
  action: {
    type: 'error',
    error: { status: 400, code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.' },
    framing: 'sse',
    retryAfterSeconds: undefined,
  },
};

/**
 * When and how a fault hits an exchange, for every endpoint: chat (streaming or not) and the image/task endpoints
 * (never streaming, so everything strikes before the response). The table is on {@link SimulatorFault}.
 */
export function planFault(fault: SimulatorFault | undefined, stream: boolean): FaultPlan {
  if (!fault) return { before: undefined, during: undefined };
  const at = (afterDeltas: number, action: FaultAction): FaultPlan =>
    stream && (afterDeltas > 0 || action.type === 'stall')
      ? { before: undefined, during: { afterDeltas, action } }
      : { before: action, during: undefined };

  switch (fault.kind) {
    case 'slowFirstByte':
      return { before: { type: 'delay', ms: fault.ms ?? 5000 }, during: undefined };
    case 'stall':
      return at(fault.afterDeltas ?? 0, { type: 'stall', ms: fault.ms });
    case 'disconnect':
      return at(fault.afterDeltas ?? 0, { type: 'disconnect' });
    case 'midStreamError':
    case 'badKey':
    case 'throttle':
    case 'inspection':
    case 'invalidParameter':
    case 'serverError': {
      const afterDeltas = fault.afterDeltas ?? (fault.kind === 'midStreamError' ? 3 : 0);
      const midStream = stream && afterDeltas > 0;
      const error = faultError(fault, midStream);
      if (!error) return { before: undefined, during: undefined };
      // §3.1: validation failures on a streaming request arrive as HTTP 200 + one `event:error`; auth, throttling and
      // gateway failures as plain HTTP errors.
      const framing = fault.framing ?? (stream && (fault.kind === 'inspection' || fault.kind === 'invalidParameter') ? 'sse' : 'http');
      return at(afterDeltas, { type: 'error', error, framing: stream ? framing : 'http', retryAfterSeconds: fault.retryAfterSeconds });
    }
    case 'taskFailed':
    case 'partialFailure':
    case 'stuckRunning':
    case 'lostAnswer':
      // Image task outcomes: the task store reads them when the task is polled; a lost answer is the submit's own.
      return { before: undefined, during: undefined };
  }
}

/**
 * Carries out one fault action — the only place a fault takes effect, before a response or in the middle of a
 * stream. `sendError` writes an error in the endpoint's own format (native envelope, compatible-mode body, SSE
 * event). Resolves to false when the exchange is over (error sent, socket dropped, client gone).
 */
export async function strikeFault(x: Exchange, action: FaultAction, sendError: (action: ErrorAction) => void): Promise<boolean> {
  switch (action.type) {
    case 'delay':
      return pause(action.ms, x.clientGone);
    case 'stall':
      if (action.ms === undefined) {
        await untilAborted(x.clientGone);
        return false;
      }
      return pause(action.ms, x.clientGone);
    case 'disconnect':
      x.record.outcome = 'dropped';
      await dropConnection(x.res);
      return false;
    case 'error':
      sendError(action);
      return false;
  }
}
