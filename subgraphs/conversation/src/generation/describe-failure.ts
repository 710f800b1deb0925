import { isDashScopeError, type DashScopeError } from '@firefly/dashscope';
import type { MessageErrorCode } from './endings.ts';

/**
 * The `error` text stored on a FAILED message: readable by the user, never DashScope's raw message (moderation
 * texts may quote policy) or anything of ours that could leak internals. The upstream code and request id are
 * kept at the end for support.
 */
export function describeUpstreamFailure(error: unknown, hadOutput: boolean): string {
  if (!isDashScopeError(error)) return 'The answer could not be generated because of an internal error.';
  return `${sentenceFor(error, hadOutput)}${suffix(error)}`;
}

/**
 * Message.errorCode for an upstream failure: the registry code our DashScope client already classified it as
 * (CONTENT_REJECTED, RATE_LIMITED, UPSTREAM_UNAVAILABLE, BAD_USER_INPUT), never DashScope's own code.
 */
export function upstreamFailureCode(error: unknown): MessageErrorCode {
  return isDashScopeError(error) ? error.code : 'INTERNAL_SERVER_ERROR';
}

function sentenceFor(error: DashScopeError, hadOutput: boolean): string {
  switch (error.kind) {
    case 'content':
      return hadOutput ? 'The answer was stopped by content moderation.' : 'The message was rejected by content moderation.';
    case 'throttled':
      return 'The model is busy right now (rate limited). Please try again shortly.';
    case 'invalid_request':
      return 'The model refused the request as invalid.';
    case 'timeout':
      return 'The model stopped responding (timed out).';
    case 'network':
    case 'server':
      return hadOutput ? 'The model service failed in the middle of the answer.' : 'The model service is unavailable right now. Please try again.';
    case 'auth':
    case 'forbidden':
    case 'not_found':
      return 'The model service is not available (configuration problem on our side).';
    case 'protocol':
    case 'unknown':
      return 'The model service answered in an unexpected way.';
  }
}

function suffix(error: DashScopeError): string {
  const parts = [error.upstreamCode, error.requestId ? `request ${error.requestId}` : undefined].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
