import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { AppError } from './app-error.ts';
import { APOLLO_REQUEST_CODES, ErrorCode, isErrorCode } from './codes.ts';

export interface FormatErrorOptions {
  /** Add the original message and stack of masked errors under `extensions.detail`. Development only. Default false. */
  exposeDetails?: boolean;
  /**
   * Gateway only: errors relayed from a subgraph (`extensions.serviceName`) keep their registry code. Subgraphs
   * mask their own errors before answering, so such a code is already client-safe. Default false.
   */
  trustDownstreamCodes?: boolean;
  /** Called with every error that gets masked, so it is logged once with its stack. */
  onMasked?: (error: unknown) => void;
  /**
   * Turns a known infrastructure failure (the database or Redis unreachable) into a client-safe error, e.g.
   * UPSTREAM_UNAVAILABLE with `service`, instead of INTERNAL_SERVER_ERROR. Still reported to `onMasked`.
   */
  classify?: (error: unknown) => AppError | undefined;
}

/**
 * Builds Apollo Server's `formatError`: errors that carry a registry code (ours, or Apollo's own request errors)
 * pass through; everything else (Prisma, Redis, bugs) becomes INTERNAL_SERVER_ERROR with a generic message.
 * Never throws, whatever it is given.
 */
export function createFormatError(options: FormatErrorOptions = {}) {
  return function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    try {
      const original = unwrap(error);
      const code = formatted.extensions?.code;
      if (original instanceof AppError || (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && isClientSafe(original))) {
        return withoutStack(formatted);
      }
      if (typeof code === 'string' && APOLLO_REQUEST_CODES.has(code)) return withoutStack(formatted);
      if (options.trustDownstreamCodes && isErrorCode(code) && typeof formatted.extensions?.serviceName === 'string') {
        const { serviceName: _service, ...extensions } = formatted.extensions;
        return withoutStack({ ...formatted, extensions });
      }
      options.onMasked?.(original);
      const classified = options.classify?.(original);
      if (classified) {
        return {
          message: classified.message,
          ...(formatted.path ? { path: formatted.path } : {}),
          ...(formatted.locations ? { locations: formatted.locations } : {}),
          extensions: { ...classified.extensions },
        };
      }
      const extensions: Record<string, unknown> = { code: ErrorCode.INTERNAL_SERVER_ERROR };
      if (options.exposeDetails) extensions.detail = original instanceof Error ? original.message : String(original);
      return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), ...(formatted.locations ? { locations: formatted.locations } : {}), extensions };
    } catch {
      return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
  };
}

/** A GraphQLError built by graphql-js or Apollo (no foreign originalError) describes the request; a wrapped exception does not. */
function isClientSafe(original: unknown): boolean {
  if (original instanceof AppError) return true;
  if (original instanceof GraphQLError) return original.originalError === undefined || original.originalError instanceof GraphQLError;
  return false;
}

function unwrap(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5 && current instanceof GraphQLError && current.originalError; i++) {
    if (current instanceof AppError) return current;
    current = current.originalError;
  }
  return current;
}

function withoutStack(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions || !('stacktrace' in formatted.extensions)) return formatted;
  const { stacktrace: _dropped, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}
