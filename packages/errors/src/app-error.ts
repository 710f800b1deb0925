import { GraphQLError } from 'graphql';
import { ErrorCode } from './codes.ts';

/** Extra, client-safe detail carried in `extensions` next to `code`. */
export type ErrorDetails = Record<string, string | number | boolean | null | undefined>;

/**
 * A typed, client-safe error. Its message and details are shown to clients as they are, so never put
 * SQL, stack traces, secrets or another user's data in them.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, { extensions: { ...stripUndefined(details), code }, originalError: cause instanceof Error ? cause : undefined });
    this.name = 'AppError';
    this.code = code;
  }
}

function stripUndefined(details: ErrorDetails): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export const unauthenticated = (message = 'Authentication required', details?: ErrorDetails) =>
  new AppError(ErrorCode.UNAUTHENTICATED, message, details);
export const forbidden = (message = 'You are not allowed to do this', details?: ErrorDetails) =>
  new AppError(ErrorCode.FORBIDDEN, message, details);
export const notFound = (what: string, details?: ErrorDetails) =>
  new AppError(ErrorCode.NOT_FOUND, `${what} not found`, details);
export const badUserInput = (message: string, details?: ErrorDetails & { field?: string }) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, details);
export const rateLimited = (retryAfterSeconds: number, message = 'Too many requests, try again later') =>
  new AppError(ErrorCode.RATE_LIMITED, message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
export const insufficientCredits = (details?: ErrorDetails) =>
  new AppError(ErrorCode.INSUFFICIENT_CREDITS, 'Not enough credits', details);
export const conflict = (message: string, details?: ErrorDetails) => new AppError(ErrorCode.CONFLICT, message, details);
export const upstreamUnavailable = (message = 'An upstream service is unavailable', details?: ErrorDetails, cause?: unknown) =>
  new AppError(ErrorCode.UPSTREAM_UNAVAILABLE, message, details, cause);
export const contentRejected = (message = 'The content was rejected by moderation', details?: ErrorDetails) =>
  new AppError(ErrorCode.CONTENT_REJECTED, message, details);
/** An operation of a feature that is not live yet; `feature` names it (e.g. `image-generation`, `payments`). */
export const notImplemented = (feature: string, message: string) => new AppError(ErrorCode.NOT_IMPLEMENTED, message, { feature });
export const internalError = (message = 'Internal server error') => new AppError(ErrorCode.INTERNAL_SERVER_ERROR, message);
