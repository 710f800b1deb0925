import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { badUserInput } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayContext } from './context.ts';
import type { GatewayModule, OperationRecord } from './modules/module.ts';
import { withHttpStatus } from './modules/http-errors.ts';
import { requestIdOf } from './modules/request-id.ts';

const CLIENT_FIELD_MAX = 64;

/** A fresh record of one operation, as either transport starts it. */
export function startOperation(transport: OperationRecord['transport'], message: IncomingMessage, clientIp: string | undefined): OperationRecord {
  return {
    transport,
    requestId: requestIdOf(message),
    startedAt: performance.now(),
    clientName: clientHeader(message, 'apollographql-client-name'),
    clientVersion: clientHeader(message, 'apollographql-client-version'),
    clientIp,
    errorCodes: [],
  };
}

function clientHeader(message: IncomingMessage, name: string): string | undefined {
  const value = message.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first ? first.slice(0, CLIENT_FIELD_MAX) : undefined;
}

/** Runs every module's `afterOperation`; a module that throws is logged, never allowed to break the others. */
export function createOperationEnd(modules: readonly GatewayModule[], logger: Logger) {
  const hooks = modules.flatMap((module) => (module.afterOperation ? [{ name: module.name, hook: module.afterOperation }] : []));
  return (record: OperationRecord) => {
    for (const { name, hook } of hooks) {
      try {
        hook(record);
      } catch (error) {
        logger.error({ err: error, module: name }, 'afterOperation hook failed');
      }
    }
  };
}

/** Runs every module's `beforeOperation` in order; the first to throw refuses the operation. */
export function createOperationStart(modules: readonly GatewayModule[]) {
  const hooks = modules.flatMap((module) => (module.beforeOperation ? [module.beforeOperation] : []));
  return async (context: GatewayContext) => {
    for (const hook of hooks) await hook(context);
  };
}

/**
 * HTTP: starts the operation record of each request (`res.locals.operation`) and ends it once the answer is sent,
 * whoever answered (Apollo Server, or a module that refused the request before it).
 */
export function trackHttpOperations(onEnd: (record: OperationRecord) => void): RequestHandler {
  return (req, res, next) => {
    const record = startOperation('http', req, req.ip);
    res.locals.operation = record;
    res.once('finish', () => {
      record.status = res.statusCode;
      onEnd(record);
    });
    next();
  };
}

/**
 * HTTP: the modules' operation hooks inside Apollo Server — `beforeOperation` once the operation is resolved (an
 * AppError refuses it with the status its code maps to), and the record filled with what Apollo Server learnt.
 */
export function operationHooksPlugin(beforeOperation: (context: GatewayContext) => Promise<void>): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, operationName, request }) {
          // No operation to run (operationName names none, or several operations and no name): the gateway's executor
          // would throw, which Apollo Server answers as a 500. It is the client's request that is wrong (found by
          // the fuzz suite, tests/e2e/fuzz).
          if (!operation) throw withHttpStatus(unknownOperation(request.operationName));
          contextValue.operation.operationName = operationName ?? undefined;
          contextValue.operation.operationType = operation?.operation;
          try {
            await beforeOperation(contextValue);
          } catch (error) {
            throw withHttpStatus(error);
          }
        },
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) contextValue.operation.errorCodes.push(String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
        },
      };
    },
  };
}

function unknownOperation(operationName: unknown) {
  if (typeof operationName === 'string' && operationName !== '') {
    return badUserInput(`The document has no operation named ${JSON.stringify(operationName.slice(0, CLIENT_FIELD_MAX))}`, { field: 'operationName' });
  }
  return badUserInput('The document has several operations: name the one to run with operationName', { field: 'operationName' });
}
