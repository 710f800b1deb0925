import { describe, expect, it } from 'vitest';
import { classifyUpstreamFailure, mapUpstreamError, parseRetryAfter, type UpstreamFailure } from '../error-mapping.ts';
import { backoffDelayMs } from '../retry.ts';

describe('classifyUpstreamFailure (docs/dashscope.md §6)', () => {
  const cases: [UpstreamFailure, string, string, boolean][] = [
    [{ status: 401, code: 'InvalidApiKey' }, 'UPSTREAM_UNAVAILABLE', 'auth', false],
    [{ status: 401 }, 'UPSTREAM_UNAVAILABLE', 'auth', false],
    [{ status: 401, code: 'invalid_api_key' }, 'UPSTREAM_UNAVAILABLE', 'auth', false],
    [{ status: 429, code: 'Throttling' }, 'RATE_LIMITED', 'throttled', true],
    [{ status: 429, code: 'Throttling.RateQuota' }, 'RATE_LIMITED', 'throttled', true],
    [{ status: 429, code: 'Throttling.AllocationQuota' }, 'RATE_LIMITED', 'throttled', true],
    // An SSE error event without its status line: the SDK assumes 400, the code must still win (§3.1).
    [{ status: 400, code: 'Throttling.BurstRate' }, 'RATE_LIMITED', 'throttled', true],
    [{ status: 429, code: 'insufficient_quota' }, 'RATE_LIMITED', 'throttled', true],
    [{ status: 400, code: 'DataInspectionFailed' }, 'CONTENT_REJECTED', 'content', false],
    [{ status: 400, code: 'InvalidParameter.DataInspection' }, 'CONTENT_REJECTED', 'content', false],
    [{ status: 400, code: 'data_inspection_failed' }, 'CONTENT_REJECTED', 'content', false],
    [{ status: 400, code: 'InvalidParameter' }, 'BAD_USER_INPUT', 'invalid_request', false],
    [{ status: 400, code: 'invalid_parameter_error' }, 'BAD_USER_INPUT', 'invalid_request', false],
    [{ status: 413, code: 'BadRequest.TooLarge' }, 'BAD_USER_INPUT', 'invalid_request', false],
    [{ status: 400, code: 'BadRequest.EmptyModel' }, 'UPSTREAM_UNAVAILABLE', 'invalid_request', false],
    [{ status: 400, code: 'Arrearage' }, 'UPSTREAM_UNAVAILABLE', 'forbidden', false],
    [{ status: 403, code: 'AccessDenied.Unpurchased' }, 'UPSTREAM_UNAVAILABLE', 'forbidden', false],
    [{ status: 403, code: 'Model.AccessDenied' }, 'UPSTREAM_UNAVAILABLE', 'forbidden', false],
    [{ status: 404, code: 'ModelNotFound' }, 'UPSTREAM_UNAVAILABLE', 'not_found', false],
    [{ status: 408, code: 'RequestTimeOut' }, 'UPSTREAM_UNAVAILABLE', 'timeout', true],
    [{ status: 500, code: 'InternalError' }, 'UPSTREAM_UNAVAILABLE', 'server', true],
    [{ status: 400, code: 'InternalError.Algo' }, 'UPSTREAM_UNAVAILABLE', 'server', true],
    [{ status: 503, code: 'ModelUnavailable' }, 'UPSTREAM_UNAVAILABLE', 'server', true],
    [{ status: 502 }, 'UPSTREAM_UNAVAILABLE', 'server', true],
    [{ status: 504 }, 'UPSTREAM_UNAVAILABLE', 'server', true],
    [{ status: 501 }, 'UPSTREAM_UNAVAILABLE', 'server', false],
    [{ status: 418, code: 'Teapot' }, 'UPSTREAM_UNAVAILABLE', 'unknown', false],
  ];

  it.each(cases)('%j → %s / %s (retryable %s)', (failure, code, kind, retryable) => {
    expect(classifyUpstreamFailure(failure)).toMatchObject({ code, kind, retryable });
  });

  it('keeps the upstream code, message, request id and Retry-After on the error', () => {
    const error = mapUpstreamError({ status: 429, code: 'Throttling.RateQuota', message: 'slow down', requestId: 'req-1', retryAfterSeconds: 3 });
    expect(error).toMatchObject({ code: 'RATE_LIMITED', upstreamCode: 'Throttling.RateQuota', upstreamMessage: 'slow down', requestId: 'req-1', retryAfterSeconds: 3, status: 429 });
    expect(error.toDetails()).toEqual({ kind: 'throttled', upstreamCode: 'Throttling.RateQuota', requestId: 'req-1', retryAfterSeconds: 3 });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, ignores garbage', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially, caps, jitters over the whole window and honours Retry-After', () => {
    expect(backoffDelayMs(0, 100, 1_000, undefined, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 1_000, undefined, () => 1)).toBe(800);
    expect(backoffDelayMs(6, 100, 1_000, undefined, () => 1)).toBe(1_000);
    expect(backoffDelayMs(3, 100, 1_000, undefined, () => 0)).toBe(0);
    expect(backoffDelayMs(0, 100, 1_000, 5, () => 0.5)).toBe(5_000);
  });
});
