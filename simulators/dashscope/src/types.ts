import type { IncomingHttpHeaders } from 'node:http';
import type { SimulatorEndpoint, SimulatorFault } from './faults.ts';

export interface DashScopeSimulatorOptions {
  /** Port to listen on; `0` picks a free one. Default `0`. */
  port?: number;
  /** Default `127.0.0.1`; use `0.0.0.0` inside a container. */
  host?: string;
  /** Accepted `Authorization: Bearer` key(s); anything else gets 401 `InvalidApiKey`. Default `sk-simulator`. */
  apiKey?: string | readonly string[];
  /** Pause between streamed events. Default `30` (about 30 ms apart in development, as the README promises). */
  tokenDelayMs?: number;
  /** Pause before the first event (and before a non-streaming answer). Default: `tokenDelayMs`. */
  firstTokenDelayMs?: number;
  /** Answers are long enough for at least this many content deltas (unless `max_tokens` cuts them). Default `20`. */
  minDeltas?: number;
  /** Cut every SSE event into writes of this many bytes (exercises client reassembly). Default: one write per event. */
  writeChunkBytes?: number;
  /** Initial fault rules; replace them later with `setFaults`. Default none. */
  faults?: readonly SimulatorFault[];
  /** Any of these in any message fails input moderation (400 `DataInspectionFailed`). Default `['sim:inspection', '模拟审核失败']`. */
  inspectionTriggers?: readonly string[];
  /** Any of these in the last user message fails output moderation mid-stream. Default `['sim:output-inspection', '模拟输出审核失败']`. */
  outputInspectionTriggers?: readonly string[];
  /** Chat model ids served; others get 404 `ModelNotFound`. Default: any id starting with `qwen` or `qwq`. */
  chatModels?: readonly string[];
  /** Image model ids served. Default: the wanx/wan text-to-image ids of docs/dashscope.md §7. */
  imageModels?: readonly string[];
  /** Prompt size above which 400 `InvalidParameter` "Range of input length…" is returned. Default `1_000_000`. */
  maxInputTokens?: number;
  /** Image tasks stay PENDING this long. Default `1000`. */
  taskPendingMs?: number;
  /** …and then RUNNING this long. Default `3000`. */
  taskRunningMs?: number;
  /** Unfinished image tasks per model before submits get 429 `Throttling.RateQuota` (docs/dashscope.md §5.2). Default `2`. */
  maxConcurrentTasksPerModel?: number;
  /** Lifetime of result URLs and task records (real: 24 h). Default `86_400_000`. */
  resultTtlMs?: number;
  /** Origin written into result URLs when clients reach the simulator through another name. Default: its own url. */
  publicUrl?: string;
  /** Answer for unknown paths (the real one is unconfirmed, docs/dashscope.md §9.1). Default `{ status: 404, code: 'NotFound' }`. */
  unknownPath?: { status: number; code: string };
  /** Size of the `requests` log (oldest dropped first). Default `1000`. */
  maxRecordedRequests?: number;
}

export type RequestOutcome =
  /** Still being answered. */
  | 'pending'
  /** The full response was sent. */
  | 'completed'
  /** The client closed the connection before the response was complete (abort, timeout). */
  | 'client-closed'
  /** The simulator dropped the connection on purpose (`disconnect` fault). */
  | 'dropped';

export interface RecordedRequest {
  requestId: string;
  method: string;
  /** Path plus query. */
  url: string;
  endpoint: SimulatorEndpoint | 'result' | 'other';
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  receivedAt: number;
  stream: boolean;
  fault: SimulatorFault | undefined;
  status: number | undefined;
  /** Content deltas written (streaming chat). */
  deltasSent: number;
  outcome: RequestOutcome;
  endedAt: number | undefined;
}

export interface DashScopeSimulator {
  /** Origin, e.g. `http://127.0.0.1:4010`. */
  readonly url: string;
  /** Native API base for the client: `${url}/api/v1`. */
  readonly baseUrl: string;
  /** OpenAI-compatible base: `${url}/compatible-mode/v1`. */
  readonly compatibleBaseUrl: string;
  readonly port: number;
  /** The API key the simulator accepts first (handy for tests). */
  readonly apiKey: string;
  /** Every request received, oldest first (a live array). */
  readonly requests: RecordedRequest[];
  /** Replaces the fault rules. */
  setFaults(faults: readonly SimulatorFault[]): void;
  /** Moves the image-task clock forward, so tests need not sleep through PENDING/RUNNING. */
  advanceClock(ms: number): void;
  /** Clears requests, faults, tasks and the clock offset. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}
