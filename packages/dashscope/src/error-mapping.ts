import { DashScopeError, type DashScopeErrorCode, type DashScopeErrorKind } from './errors.ts';

/** What DashScope told us about a failure, from whichever envelope carried it (JSON body, SSE event, task output). */
export interface UpstreamFailure {
  /** HTTP status, or the `:HTTP_STATUS/nnn` of an SSE error event. */
  status?: number;
  /** DashScope code (`InvalidApiKey`, `Throttling.RateQuota`, …) or its compatible-mode twin (`invalid_api_key`). */
  code?: string;
  message?: string;
  requestId?: string;
  retryAfterSeconds?: number;
}

interface Classification {
  code: DashScopeErrorCode;
  kind: DashScopeErrorKind;
  retryable: boolean;
  message: string;
}

const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);

// docs/dashscope.md §6: 5xx codes DashScope itself documents as retryable; they may arrive in an SSE error event whose
// status line is missing (the SDK then assumes 400), so the code has to win over the status.
const SERVER_CODES = new Set([
  'InternalError',
  'InternalError.Algo',
  'InternalError.Timeout',
  'SystemError',
  'ModelServiceFailed',
  'ModelUnavailable',
  'ModelServingError',
  'internal_error',
]);

// 400s that describe our request envelope rather than anything the user typed: reporting them as BAD_USER_INPUT
// would send the user hunting for a mistake they did not make.
const OUR_REQUEST_CODES = new Set([
  'BadRequest.EmptyInput',
  'BadRequest.EmptyParameters',
  'BadRequest.EmptyModel',
  'InvalidURL',
]);

/**
 * Maps an upstream failure to our registry (docs/dashscope.md §6). The order matters: moderation and throttling are
 * recognised by code first because both also occur as `event:error` inside an HTTP 200 stream (§3.1).
 */
export function classifyUpstreamFailure(failure: UpstreamFailure): Classification {
  const status = failure.status;
  const code = failure.code ?? '';

  if (code.includes('DataInspection') || code === 'data_inspection_failed') {
    return { code: 'CONTENT_REJECTED', kind: 'content', retryable: false, message: 'DashScope data inspection rejected the content' };
  }
  if (status === 401 || code === 'InvalidApiKey' || code === 'invalid_api_key') {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      kind: 'auth',
      retryable: false,
      message: 'DashScope rejected our API key (wrong key, or a key of another region)',
    };
  }
  if (status === 429 || code.startsWith('Throttling') || code === 'insufficient_quota' || code === 'limit_requests') {
    return { code: 'RATE_LIMITED', kind: 'throttled', retryable: true, message: 'DashScope is throttling our requests' };
  }
  if (
    status === 403 ||
    code.startsWith('AccessDenied') ||
    code.endsWith('.AccessDenied') ||
    code === 'Arrearage' ||
    code === 'access_denied'
  ) {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      kind: 'forbidden',
      retryable: false,
      message: 'DashScope refused access (model not activated, workspace not allowed, or account in arrears)',
    };
  }
  if (status === 404 || code === 'ModelNotFound' || code === 'WorkSpaceNotFound' || code === 'model_not_found') {
    return { code: 'UPSTREAM_UNAVAILABLE', kind: 'not_found', retryable: false, message: 'DashScope does not know this model or workspace' };
  }
  if (SERVER_CODES.has(code) || (status !== undefined && status >= 500)) {
    return {
      code: 'UPSTREAM_UNAVAILABLE',
      kind: 'server',
      retryable: SERVER_CODES.has(code) || (status !== undefined && RETRYABLE_STATUSES.has(status)),
      message: 'DashScope failed to serve the request',
    };
  }
  if (status === 408 || code === 'RequestTimeOut') {
    return { code: 'UPSTREAM_UNAVAILABLE', kind: 'timeout', retryable: true, message: 'DashScope timed out' };
  }
  if (OUR_REQUEST_CODES.has(code)) {
    return { code: 'UPSTREAM_UNAVAILABLE', kind: 'invalid_request', retryable: false, message: 'DashScope refused our request envelope' };
  }
  if (
    code.startsWith('InvalidParameter') ||
    code.startsWith('BadRequest') ||
    code === 'invalid_parameter_error' ||
    code === 'invalid_request_error' ||
    status === 400 ||
    status === 413 ||
    status === 415
  ) {
    return { code: 'BAD_USER_INPUT', kind: 'invalid_request', retryable: false, message: 'DashScope refused the request parameters' };
  }
  return { code: 'UPSTREAM_UNAVAILABLE', kind: 'unknown', retryable: false, message: 'DashScope returned an unexpected error' };
}

/** Builds the typed error for an upstream failure; keeps DashScope's code, message and request id. */
export function mapUpstreamError(failure: UpstreamFailure, cause?: unknown): DashScopeError {
  const c = classifyUpstreamFailure(failure);
  return new DashScopeError({
    ...c,
    message: failure.code ? `${c.message} (${failure.code})` : c.message,
    status: failure.status,
    upstreamCode: failure.code,
    upstreamMessage: failure.message,
    requestId: failure.requestId,
    // Only meaningful to callers for throttling; a Retry-After on a 503 still informs our own backoff.
    retryAfterSeconds: failure.retryAfterSeconds,
    cause,
  });
}

export function networkError(cause: unknown, requestId?: string, message = 'DashScope could not be reached'): DashScopeError {
  return new DashScopeError({ code: 'UPSTREAM_UNAVAILABLE', kind: 'network', retryable: true, message, requestId, cause });
}

export function timeoutError(timeoutMs: number, phase: 'first byte' | 'next event' | 'response body', requestId?: string): DashScopeError {
  return new DashScopeError({
    code: 'UPSTREAM_UNAVAILABLE',
    kind: 'timeout',
    retryable: true,
    message: `DashScope sent no ${phase} within ${timeoutMs} ms`,
    requestId,
  });
}

export function protocolError(message: string, requestId?: string, cause?: unknown): DashScopeError {
  return new DashScopeError({ code: 'UPSTREAM_UNAVAILABLE', kind: 'protocol', retryable: false, message, requestId, cause });
}

/**
 * `Retry-After` as seconds (delta-seconds or HTTP date). DashScope documents none (docs/dashscope.md §1), but gateways in
 * front of it may send one, and when present it beats our guess.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
