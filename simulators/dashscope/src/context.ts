import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorFault } from './faults.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { RecordedRequest } from './types.ts';

/** What every endpoint handler gets for one HTTP exchange. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly record: RecordedRequest;
  readonly requestId: string;
  readonly arrivedAt: number;
  /** Parsed JSON body; `undefined` when absent or not JSON (see `bodyError`). */
  readonly body: unknown;
  readonly bodyError: string | undefined;
  /** The fault chosen for this exchange (header, prompt directive or rule). */
  readonly fault: SimulatorFault | undefined;
  /** Aborts when the client goes away before the response is complete. */
  readonly clientGone: AbortSignal;
  readonly sim: SimulatorRuntime;
}

export interface SimulatorRuntime {
  readonly options: ResolvedSimulatorOptions;
  /** Clock for task lifecycles; `advanceClock` moves it. */
  now(): number;
  /** Origin written into result URLs. */
  publicUrl(): string;
  /** Key for result-URL signatures. */
  readonly urlSecret: Buffer;
}
