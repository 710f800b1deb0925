import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per server, so several servers can live in one test process without clashing. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors by extensions.code',
    labelNames: ['code'] as const,
    registers: [registry],
  });

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: req.route?.path ?? req.baseUrl ?? req.path, status: String(res.statusCode) }));
    next();
  };
  /** The same measurement for a request handled without Express (the subgraphs' GraphQL POSTs), on a known route. */
  const trackHttp = (method: string, route: string, res: ServerResponse) => {
    const end = httpDuration.startTimer({ method, route });
    res.once('finish', () => end({ status: String(res.statusCode) }));
  };

  const apolloPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async willSendResponse(ctx) {
          const outcome = ctx.errors?.length ? 'error' : 'ok';
          operations.inc({ type: ctx.operation?.operation ?? 'unknown', outcome });
          for (const error of ctx.errors ?? []) errors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
        },
      };
    },
  };

  return { registry, httpMiddleware, trackHttp, apolloPlugin };
}

export type Metrics = ReturnType<typeof createMetrics>;
