import { faultError, type FaultError, type SimulatorFault } from './faults.ts';

export type FaultAction =
  | { type: 'error'; error: FaultError; framing: 'http' | 'sse'; retryAfterSeconds: number | undefined }
  | { type: 'disconnect' }
  /** Go silent for `ms`, or until the client leaves when undefined. */
  | { type: 'stall'; ms: number | undefined }
  | { type: 'delay'; ms: number };

export interface ChatFaultPlan {
  /** Strikes before the response starts. */
  before: FaultAction | undefined;
  /** Strikes once `afterDeltas` deltas are out (streaming only; `delay` never appears here). */
  during: { afterDeltas: number; action: FaultAction } | undefined;
}

/** When and how a fault hits a chat exchange; the table is on {@link SimulatorFault}. */
export function planChatFault(fault: SimulatorFault | undefined, stream: boolean): ChatFaultPlan {
  if (!fault) return { before: undefined, during: undefined };
  const at = (afterDeltas: number, action: FaultAction): ChatFaultPlan =>
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
      return { before: undefined, during: undefined };
  }
}
