import type { Server as HttpServer } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import express, { type Express } from 'express';
import { parse, validate, type DocumentNode, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CREDENTIAL_HEADER, CREDENTIAL_PARAM, CredentialError, createCredentialVerifier, type Identity } from '@firefly/auth';
import { createFormatError, upstreamUnavailable, type AppError } from '@firefly/errors';
import { redisUnavailableReason } from '@firefly/redis';
import type { Logger } from '@firefly/logger';
import { applyAccessPolicies, type AccessOptions } from './access.ts';
import type { BaseContext } from './context.ts';
import type { Metrics } from './metrics.ts';
import { createHttpShell, type ReadinessCheck } from './shell.ts';
import { staticCacheControlPlugin } from './cache-control.ts';
import { BodyError, executeGraphQLPost, readJsonBody, sendJson, takesFastPath } from './graphql-http.ts';
import { startJobs, type JobDefinition } from './jobs.ts';
import { createRateLimits, type RateLimitOptions } from './rate-limits.ts';

/** `/readyz` probe of MySQL: `SELECT 1` on the process's pool. */
export function mysqlReadiness(db: { $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown> }): ReadinessCheck {
  return { name: 'mysql', check: async () => db.$queryRaw`SELECT 1` };
}

/** `/readyz` probe of Redis: `PING`. */
export function redisReadiness(redis: { ping(): Promise<unknown> }): ReadinessCheck {
  return { name: 'redis', check: () => redis.ping() };
}

/**
 * Redis unreachable or not answering in time (a fail-fast client from `createRedis`): UPSTREAM_UNAVAILABLE, service
 * redis, with the reason (`unreachable`: refused at once, `connection_lost`, `timeout`; see redisUnavailableReason).
 */
function classifyRedisError(error: unknown): AppError | undefined {
  const reason = redisUnavailableReason(error);
  return reason ? upstreamUnavailable('Redis is unavailable', { service: 'redis', reason }) : undefined;
}

/** Distinct subscription documents a subgraph keeps parsed and validated (the oldest makes room). */
const WS_DOCUMENT_CACHE_SIZE = 200;

/** Resolvers per type name: scalars, and objects of field resolvers (see SubgraphServerOptions.resolvers). */
export type SubgraphResolvers = Readonly<Record<string, object | undefined>>;

export interface SubgraphServerOptions<TContext extends BaseContext> {
  /** e.g. `user`; used in logs and metrics as `subgraph-<name>`. */
  name: string;
  typeDefs: string | DocumentNode;
  /**
   * Recognises infrastructure failures (the database unreachable) and answers them with a client-safe error such
   * as UPSTREAM_UNAVAILABLE naming the service, instead of INTERNAL_SERVER_ERROR. Redis unreachable is recognised
   * for every subgraph (UPSTREAM_UNAVAILABLE, service `redis`) after this. Default: none.
   */
  classifyError?: (error: unknown) => AppError | undefined;
  /**
   * The subgraph's resolvers, typed by its generated `Resolvers` (src/generated/resolvers-types.ts, `npm run
   * codegen`). Apollo's own map type cannot express `__resolveReference(reference, context)`, hence the plain shape.
   */
  resolvers: SubgraphResolvers;
  /** Secret that verifies gateway and service credentials. */
  internalTokenSecret: string;
  logger: Logger;
  /** Extends the verified base context with this subgraph's loaders and services (fresh per request). */
  createContext: (base: BaseContext) => TContext | Promise<TContext>;
  access?: AccessOptions;
  readiness?: ReadinessCheck[];
  /**
   * The process's NODE_ENV and OPS_PORT: error details (the original message of masked errors) only in development,
   * introspection (`__schema`, `__type`) everywhere but production (`_service { sdl }` stays: it is federation's),
   * and `/readyz` and `/metrics` on the ops port when one is set.
   */
  environment: { NODE_ENV: 'development' | 'test' | 'production'; OPS_PORT?: number | undefined };
  plugins?: ApolloServerPlugin<TContext>[];
  /**
   * `@rateLimit` on the schema (rate-limits.ts): counters in this Redis, per caller or per client IP, with the
   * schema's values overridden per environment. Without it the directive is inert. Access checks run before it.
   */
  rateLimits?: RateLimitOptions;
  /** Express routes mounted before GraphQL (e.g. payment notifications). They do their own authentication. */
  configureApp?: (app: Express) => void;
  /** The subgraph's background jobs (declared in its `src/jobs/`): started with the server, stopped first on stop. */
  jobs?: readonly JobDefinition[];
  /** Called on stop after the HTTP server closed and the jobs stopped, to release what the subgraph built. */
  onStop?: () => Promise<void>;
}

export interface SubgraphServer {
  app: Express;
  httpServer: HttpServer;
  metrics: Metrics;
  /** Starts listening; resolves with the GraphQL URL. Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  /** Origin of the ops port (`/readyz`, `/metrics`) once listening, when OPS_PORT is set. */
  opsOrigin(): string | undefined;
  /** Stops accepting, drains in-flight requests and sockets, then runs `onStop`. */
  stop(): Promise<void>;
}

/**
 * Builds a subgraph's server without listening: Express 5 + Apollo Server 5 + `buildSubgraphSchema`, graphql-ws
 * on the same `/graphql` path, `/healthz`, `/readyz`, `/metrics`. Every GraphQL request and socket must present a
 * valid gateway or service credential, or it is refused with 401 before any resolver runs.
 */
export async function createSubgraphServer<TContext extends BaseContext>(options: SubgraphServerOptions<TContext>): Promise<SubgraphServer> {
  const service = `subgraph-${options.name}`;
  const logger = options.logger;
  const verifyCredential = createCredentialVerifier({ secret: options.internalTokenSecret });
  const rateLimits = options.rateLimits ? createRateLimits(options.name, options.rateLimits) : undefined;
  const sdl = typeof options.typeDefs === 'string' ? parse(options.typeDefs) : options.typeDefs;
  const typeDefs = rateLimits ? rateLimits.typeDefs(sdl) : sdl;
  let built = buildSubgraphSchema([{ typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }]);
  if (rateLimits) built = rateLimits.transformSchema(built);
  const schema = applyAccessPolicies(built, options.access);
  const shell = createHttpShell({ service, logger, readiness: options.readiness, opsPort: options.environment.OPS_PORT });
  const { app, httpServer, metrics } = shell;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });

  const buildBase = (identity: Identity): BaseContext => ({
    identity,
    tenantId: identity.tenantId,
    requestId: identity.requestId,
    logger: logger.child({ requestId: identity.requestId }),
  });

  // One formatError for both transports: Apollo's for HTTP, and graphql-ws's results and ends below.
  const formatError = createFormatError({
    exposeDetails: options.environment.NODE_ENV === 'development',
    onMasked: (error) => logger.error({ err: error }, 'masked an internal error'),
    classify: (error) => options.classifyError?.(error) ?? classifyRedisError(error),
  });
  /**
   * graphql-ws sends errors as graphql-js made them; Apollo's formatError does not run on its path. Errors wrapping
   * an exception (from a resolver, `subscribe`, the rate limiter, an iterator) are formatted here as over HTTP —
   * Redis or the database unreachable answers UPSTREAM_UNAVAILABLE naming it, anything unknown is masked and
   * logged; graphql-js's own request errors (variables, validation) pass as they are.
   */
  const formatWsErrors = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => (error.originalError ? formatError(error.toJSON(), error) : error.toJSON()));

  /**
   * Subscription documents parsed and validated once: the gateway opens every subscription of a field with the same
   * document (only the variables differ), and graphql-ws would parse and validate it again for each one. Only valid
   * documents are kept (a request that fails is answered as graphql-ws does); a syntax error throws as it did there.
   */
  const wsDocuments = new Map<string, DocumentNode>();
  const wsDocument = (query: string): DocumentNode | readonly GraphQLError[] => {
    const known = wsDocuments.get(query);
    if (known) return known;
    const document = parse(query);
    const errors = validate(schema, document);
    if (errors.length > 0) return errors;
    if (wsDocuments.size >= WS_DOCUMENT_CACHE_SIZE) wsDocuments.delete(wsDocuments.keys().next().value!);
    wsDocuments.set(query, document);
    return document;
  };

  const wsCleanup = useServer<Record<string, unknown>, { identity?: Identity }>(
    {
      schema,
      onSubscribe: (_ctx, _id, payload) => {
        const document = wsDocument(payload.query);
        if (!('kind' in document)) return document;
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onConnect: async (ctx) => {
        try {
          ctx.extra.identity = await verifyCredential(ctx.connectionParams?.[CREDENTIAL_PARAM] as string | undefined);
          return true;
        } catch {
          return false;
        }
      },
      context: async (ctx) => options.createContext(buildBase(ctx.extra.identity!)),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors?.length ? { ...result, errors: formatWsErrors(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatWsErrors(errors),
    },
    wsServer,
    15_000,
  );

  const apollo = new ApolloServer<TContext>({
    schema,
    introspection: options.environment.NODE_ENV !== 'production',
    csrfPrevention: true,
    // The process entry owns SIGTERM/SIGINT (handleProcessSignals); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Federated tracing is for Apollo GraphOS, which we do not report to; it costs time on every request.
      ApolloServerPluginInlineTraceDisabled(),
      // Apollo's cache control, minus its per-field hooks on answers known to be no-store (cache-control.ts).
      ApolloServerPluginCacheControlDisabled(),
      staticCacheControlPlugin<TContext>(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      metrics.apolloPlugin as ApolloServerPlugin<TContext>,
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();
  const jobs = startJobs(options.jobs ?? [], logger);

  options.configureApp?.(app);

  const refuse = (error: unknown, ip: string | undefined): { status: 401; body: unknown } => {
    const reason = error instanceof CredentialError ? error.reason : 'invalid';
    logger.warn({ reason, ip }, 'refused a request without a valid gateway credential');
    return { status: 401, body: { errors: [{ message: 'A valid gateway credential is required', extensions: { code: 'UNAUTHENTICATED' } }] } };
  };

  // The hot path — every gateway fetch is a JSON POST to /graphql — without Express (graphql-http.ts): the
  // credential checked before the body is read, as on the Express route below, which serves everything else.
  shell.handleFirst((req, res) => {
    if (!takesFastPath(req)) return false;
    metrics.trackHttp('POST', '/graphql', res);
    void (async () => {
      let identity: Identity;
      try {
        identity = await verifyCredential(req.headers[CREDENTIAL_HEADER] as string | undefined);
      } catch (error) {
        const refusal = refuse(error, req.socket.remoteAddress);
        // The body is not wanted; the connection may still be reused once it has been read past.
        req.resume();
        return sendJson(res, refusal.status, refusal.body);
      }
      let body: unknown;
      try {
        body = await readJsonBody(req);
      } catch (error) {
        if (!(error instanceof BodyError)) return void req.destroy();
        res.setHeader('connection', 'close');
        return sendJson(res, error.status, { errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] });
      }
      await executeGraphQLPost(apollo, req, res, body, async () => options.createContext(buildBase(identity)));
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'a GraphQL request failed outside Apollo Server');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
    return true;
  });

  app.use(
    '/graphql',
    metrics.httpMiddleware,
    async (req, res, next) => {
      try {
        res.locals.identity = await verifyCredential(req.get(CREDENTIAL_HEADER));
        next();
      } catch (error) {
        const refusal = refuse(error, req.ip);
        res.status(refusal.status).json(refusal.body);
      }
    },
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ res }) => options.createContext(buildBase(res.locals.identity as Identity)),
    }),
  );

  return {
    app,
    httpServer,
    metrics,
    listen: (port, host) => shell.listen(port, host),
    opsOrigin: () => shell.opsOrigin(),
    stop: shell.createStop(
      () => apollo.stop(),
      async () => {
        await jobs.stop();
        await options.onStop?.();
      },
    ),
  };
}
