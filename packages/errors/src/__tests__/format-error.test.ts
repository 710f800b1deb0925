import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createFormatError } from '../format-error.ts';
import { badUserInput, rateLimited, upstreamUnavailable } from '../app-error.ts';

const format = (error: unknown, extensions: Record<string, unknown> = {}, options = {}) => {
  const formatError = createFormatError(options);
  const message = error instanceof Error ? error.message : String(error);
  return formatError({ message, extensions }, error);
};

describe('formatError', () => {
  it('passes typed errors through with their code and details', () => {
    const error = rateLimited(12.2);
    expect(format(error, error.extensions)).toEqual({ message: 'Too many requests, try again later', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 13 } });
    const input = badUserInput('first must be between 0 and 100', { field: 'first' });
    expect(format(input, input.extensions).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('masks anything unknown, such as a database error, as INTERNAL_SERVER_ERROR', () => {
    const leak = new GraphQLError('Invalid `prisma.user.findMany()` invocation: SELECT secret FROM users', {
      originalError: new Error('SELECT secret FROM users'),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    const masked = format(leak, { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] });
    expect(masked).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(masked)).not.toContain('SELECT');
  });

  it('does not trust a registry code attached to a wrapped foreign exception', () => {
    const wrapped = new GraphQLError('boom', { originalError: Object.assign(new Error('ECONNRESET'), { extensions: { code: 'FORBIDDEN' } }) });
    expect(format(wrapped, { code: 'FORBIDDEN' }).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('adds the original message only when asked to (development)', () => {
    const masked = format(new Error('pool exhausted'), {}, { exposeDetails: true });
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', detail: 'pool exhausted' });
  });

  it('keeps the codes of errors relayed from a subgraph only when told to (the gateway)', () => {
    const relayed = new GraphQLError('Authentication required', { originalError: new Error('Authentication required'), extensions: { code: 'UNAUTHENTICATED', serviceName: 'conversation' } });
    expect(format(relayed, relayed.extensions, { trustDownstreamCodes: true }).extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(format(relayed, relayed.extensions).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('turns an infrastructure failure the classifier knows into its client-safe error, without the details', () => {
    const poolTimeout = new GraphQLError('pool timeout: failed to retrieve a connection from pool after 5001ms (host db-1)', {
      originalError: Object.assign(new Error('pool timeout after 5001ms (host db-1)'), { unavailable: true }),
    });
    const classify = (error: unknown) => ((error as { unavailable?: boolean }).unavailable ? upstreamUnavailable('The database is unavailable', { service: 'mysql' }) : undefined);
    const formatted = format(poolTimeout, {}, { classify });
    expect(formatted).toEqual({ message: 'The database is unavailable', extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'mysql' } });
    expect(format(new Error('a bug'), {}, { classify }).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('never throws, whatever it is given', () => {
    const formatError = createFormatError();
    expect(formatError({ message: 'x' }, undefined).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(formatError({ message: 'x' }, null).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
  });
});
