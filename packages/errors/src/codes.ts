/**
 * The one registry of error codes clients see in `extensions.code` (docs/api-guide.md, "Errors"). Domain code throws
 * {@link AppError}s built by the factories in app-error.ts; anything else is masked by `formatError`.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  RATE_LIMITED: 'RATE_LIMITED',
  INSUFFICIENT_CREDITS: 'INSUFFICIENT_CREDITS',
  CONFLICT: 'CONFLICT',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  CONTENT_REJECTED: 'CONTENT_REJECTED',
  /**
   * The operation is in the schema but its feature is not live yet (image generation, payments). Permanent for
   * this deployment: retrying does not help; `extensions.feature` names what is missing.
   */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  /** The document's static cost is over the gateway's limit (cost directive spec); nothing ran. */
  COST_ESTIMATED_TOO_EXPENSIVE: 'COST_ESTIMATED_TOO_EXPENSIVE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes Apollo Server itself emits for malformed requests; they describe the request, so they pass through. */
export const APOLLO_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const known = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && known.has(value);
}

/** HTTP status a transport (e.g. a plain REST route) should use for a code. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'PERSISTED_QUERY_NOT_FOUND':
      return 404;
    case 'BAD_USER_INPUT':
    case 'PERSISTED_QUERY_NOT_IN_LIST':
    case 'COST_ESTIMATED_TOO_EXPENSIVE':
      return 400;
    case 'CONFLICT':
      return 409;
    case 'RATE_LIMITED':
      return 429;
    case 'INSUFFICIENT_CREDITS':
      return 402;
    case 'CONTENT_REJECTED':
      return 422;
    case 'UPSTREAM_UNAVAILABLE':
      return 503;
    case 'NOT_IMPLEMENTED':
      return 501;
    case 'INTERNAL_SERVER_ERROR':
      return 500;
    default:
      return assertNever(code);
  }
}

/**
 * HTTP status for any `extensions.code` a client may see: registry codes as {@link httpStatusFor}, Apollo's request
 * codes (malformed, invalid documents) 400, anything else 500.
 */
export function httpStatusForCode(code: unknown): number {
  if (isErrorCode(code)) return httpStatusFor(code);
  if (typeof code === 'string' && APOLLO_REQUEST_CODES.has(code)) return 400;
  return 500;
}

export function assertNever(value: never): never {
  throw new Error(`unreachable case: ${JSON.stringify(value)}`);
}
