import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, badUserInput, rateLimited, upstreamUnavailable } from '@firefly/errors';

/** Apollo Server's `formatError` signature; the gateway passes the very function it gives Apollo Server. */
export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * Ends a subscription with one or more GraphQL errors, sent as the graphql-ws `error` message. graphql-ws wraps a
 * thrown error into a single GraphQLError; `unwrapEndErrors` recovers the whole list in `onError`.
 */
export class SubscriptionEndError extends Error {
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors[0]?.message ?? 'Subscription ended with an error');
    this.name = 'SubscriptionEndError';
  }
}

/** The errors a subscription ended with, whatever graphql-ws wrapped them in. */
export function unwrapEndErrors(errors: readonly GraphQLError[]): readonly unknown[] {
  return errors.flatMap((error) => {
    const original = error.originalError;
    if (original instanceof SubscriptionEndError) return original.errors;
    if (original instanceof AppError) return [original];
    return [error];
  });
}

/**
 * Formats one error as Apollo Server would for HTTP: `toJSON()` of the GraphQLError, then the shared `formatError`
 * (registry codes pass, subgraph codes are trusted, everything else is masked as INTERNAL_SERVER_ERROR).
 */
export function formatOne(formatError: FormatError, error: unknown): GraphQLFormattedError {
  const graphQLError = isGraphQLErrorLike(error) ? error : new GraphQLError('Internal server error', { originalError: error instanceof Error ? error : undefined });
  return formatError(graphQLError.toJSON(), graphQLError);
}

/**
 * Duck-typed: errors from `@apollo/gateway` come from the CommonJS copy of graphql-js, ours may not (tsx, vitest);
 * `instanceof` across the two would be false.
 */
function isGraphQLErrorLike(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && typeof (error as Partial<GraphQLError>).toJSON === 'function' && 'extensions' in error);
}

export const upstreamGone = (subgraph: string, cause?: unknown) =>
  upstreamUnavailable(`The ${subgraph} service is unavailable; subscribe again (with afterSeq where the field has one)`, { service: subgraph }, cause);

/**
 * The client reads too slowly: its bounded queue is full. Until the registry has a dedicated code, RATE_LIMITED
 * (HTTP 429's meaning: slow down, then retry) with `reason: SLOW_CONSUMER`; the client resubscribes from its last seq.
 */
export const slowConsumer = (limit: number) => {
  const error = rateLimited(1, `The client fell more than ${limit} events behind; subscribe again from the last event received`);
  error.extensions['reason'] = 'SLOW_CONSUMER';
  return error;
};

export const onlySubscriptions = () =>
  badUserInput('Only subscriptions are served over graphql-ws; send queries and mutations as HTTP POST to /graphql');

/**
 * A graphql-js request error (syntax, validation, variable coercion) with the code Apollo Server gives it on the
 * HTTP path, keeping its locations.
 */
export function withCode(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED' | 'BAD_USER_INPUT'): GraphQLError {
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code },
  });
}

