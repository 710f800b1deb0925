import { HeaderMap } from '@apollo/server';
import type { ErrorRequestHandler, Response } from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, httpStatusFor, httpStatusForCode } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayModule } from './module.ts';

/**
 * Answers a request the gateway refuses before Apollo Server runs (no `data` key, as for any request error), with the
 * HTTP status the first error's code maps to (errors package). Records the codes for the access log.
 */
export function sendErrors(res: Response, errors: readonly GraphQLFormattedError[], status = httpStatusForCode(errors[0]?.extensions?.code)): void {
  const record = res.locals.operation as { errorCodes: string[] } | undefined;
  for (const error of errors) record?.errorCodes.push(String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
  const retryAfter = errors[0]?.extensions?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
  res.status(status).json({ errors });
}

/** An AppError as a client sees it (message and extensions; never a stack). */
function formatAppError(error: AppError): GraphQLFormattedError {
  return { message: error.message, extensions: error.extensions };
}

/**
 * HTTP statuses of errors raised outside Apollo Server — refusals by the gateway's own middleware (AppErrors, their
 * status from the errors package's `httpStatusFor`), a body too large (413) or malformed (400) — answered in GraphQL's
 * error shape rather than Express's HTML page. Anything else is a 500 with nothing of the error in it.
 */
export function useHttpErrors(options: { logger: Logger; maxBodyBytes: number }): GatewayModule & { httpError: ErrorRequestHandler } {
  return {
    name: 'http-errors',
    httpError(error: Error & { status?: number; type?: string }, _req, res, next) {
      if (res.headersSent) return next(error);
      if (error instanceof AppError) {
        sendErrors(res, [formatAppError(error)], httpStatusFor(error.code));
        return;
      }
      const status = error.status ?? 500;
      if (status >= 500) options.logger.error({ err: error }, 'unhandled error in the HTTP layer');
      const message =
        error.type === 'entity.too.large' ? `Request body is larger than ${options.maxBodyBytes} bytes` : status < 500 ? 'Malformed request' : 'Internal server error';
      sendErrors(res, [{ message, extensions: { code: status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR' } }], status);
    },
  };
}

/**
 * An error raised inside Apollo Server's request pipeline (a plugin refusing an operation) with the HTTP status its
 * code maps to — Apollo Server answers 500 for a plugin's error that names no status — and `Retry-After` for
 * RATE_LIMITED. Anything but an AppError is returned as it is.
 */
export function withHttpStatus(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  const retryAfter = error.extensions.retryAfterSeconds;
  const headers = new HeaderMap(typeof retryAfter === 'number' ? [['retry-after', String(retryAfter)]] : []);
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: httpStatusFor(error.code), headers } } });
}
