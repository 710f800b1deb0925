/**
 * The codes a DashScope failure can surface as. They are a subset of the error-code registry
 * (`@firefly/errors`, `extensions.code`), spelled identically, so a caller can hand `error.code` straight to the registry's
 * factories without a translation table. Kept as plain strings so this package needs no GraphQL dependency.
 */
export const DashScopeErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  RATE_LIMITED: 'RATE_LIMITED',
  CONTENT_REJECTED: 'CONTENT_REJECTED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
} as const;

export type DashScopeErrorCode = (typeof DashScopeErrorCode)[keyof typeof DashScopeErrorCode];

/**
 * Why the call failed, finer than {@link DashScopeErrorCode}; meant for logs, metrics and the retry decision.
 *
 * - `auth`: key missing, wrong or for another region (401). Our misconfiguration, never the user's.
 * - `forbidden`: account not entitled to the model / workspace, or in arrears (403, `Arrearage`).
 * - `not_found`: unknown model or workspace (404) — our catalogue disagrees with DashScope.
 * - `throttled`: 429 / `Throttling.*`.
 * - `content`: data inspection (moderation) refused the input or the output.
 * - `invalid_request`: the request was refused as malformed (400 `InvalidParameter`, too long input, …).
 * - `server`: DashScope failed (5xx, `InternalError*`, `ModelUnavailable`).
 * - `network`: no usable HTTP exchange (DNS, refused, reset, stream cut before completion).
 * - `timeout`: no first byte, or no event for longer than the configured timeout.
 * - `protocol`: DashScope answered something we cannot parse.
 * - `unknown`: a status/code pair not covered above; not retried.
 */
export type DashScopeErrorKind =
  | 'auth'
  | 'forbidden'
  | 'not_found'
  | 'throttled'
  | 'content'
  | 'invalid_request'
  | 'server'
  | 'network'
  | 'timeout'
  | 'protocol'
  | 'unknown';

export interface DashScopeErrorInit {
  code: DashScopeErrorCode;
  kind: DashScopeErrorKind;
  message: string;
  retryable: boolean;
  /** HTTP status, or for an SSE `event:error` the status from its `:HTTP_STATUS/nnn` line. */
  status?: number;
  /** DashScope's own error code, e.g. `Throttling.RateQuota`. */
  upstreamCode?: string;
  /** DashScope's message, verbatim. May be shown to operators, not necessarily to end users. */
  upstreamMessage?: string;
  /** DashScope `request_id` (also the `x-request-id` header); quote it in any support ticket. */
  requestId?: string;
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A typed DashScope failure. `message` is ours and safe to log; DashScope's own text is kept apart in
 * `upstreamMessage`. The API key never appears in either.
 */
export class DashScopeError extends Error {
  readonly code: DashScopeErrorCode;
  readonly kind: DashScopeErrorKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: DashScopeErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'DashScopeError';
    this.code = init.code;
    this.kind = init.kind;
    this.retryable = init.retryable;
    this.status = init.status;
    this.upstreamCode = init.upstreamCode;
    this.upstreamMessage = init.upstreamMessage;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Client-safe detail for `extensions` (no upstream message: moderation texts may quote policy). */
  toDetails(): Record<string, string | number | undefined> {
    return {
      kind: this.kind,
      upstreamCode: this.upstreamCode,
      requestId: this.requestId,
      retryAfterSeconds: this.retryAfterSeconds,
    };
  }
}

export function isDashScopeError(error: unknown): error is DashScopeError {
  return error instanceof DashScopeError;
}
