import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '@firefly/logger';
import type { GatewayModule } from './module.ts';

const REQUEST_ID_HEADER = 'x-request-id';
/** What a load balancer's id may look like to be kept; anything else is replaced (it ends up in every log line). */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;
const ids = new WeakMap<IncomingMessage, string>();

/**
 * The id of an HTTP request or of a graphql-ws socket's upgrade request: a well-formed incoming `x-request-id` (from
 * a load balancer) is honoured, otherwise one is made. The same message always gets the same id.
 */
export function requestIdOf(message: IncomingMessage): string {
  let id = ids.get(message);
  if (id === undefined) {
    const incoming = message.headers[REQUEST_ID_HEADER];
    const value = Array.isArray(incoming) ? incoming[0] : incoming;
    id = value && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
    ids.set(message, id);
  }
  return id;
}

/** The process logger bound to a request id (and nothing the client chose). */
export function requestLogger(logger: Logger, requestId: string): Logger {
  return logger.child({ requestId });
}

/**
 * Request identity (Hive Gateway's `useRequestId`): makes the id, echoes it in `x-request-id` on HTTP answers and on
 * the graphql-ws upgrade's 101, and — through the context — binds it to the request's logger and forwards it to
 * every subgraph (CredentialedDataSource) and inside the gateway credential.
 */
export function useRequestId(): GatewayModule {
  return {
    name: 'request-id',
    http(req, res, next) {
      res.setHeader(REQUEST_ID_HEADER, requestIdOf(req));
      next();
    },
    upgradeHeaders: (request) => ({ [REQUEST_ID_HEADER]: requestIdOf(request) }),
  };
}
