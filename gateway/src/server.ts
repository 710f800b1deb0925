import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express, type Response } from 'express';
import type { DocumentNode } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { JSONWebKeySet } from 'jose';
import { createCredentialSigner } from '@firefly/auth';
import { ApolloGateway } from './apollo-gateway.ts';
import { createFormatError } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { followSettings } from '@firefly/platform-state';
import { createHttpShell, executeGraphQLPost, type Metrics } from '@firefly/server-kit';
import { corsOriginsOf, parseSubgraphWsUrls, type GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { CredentialedDataSource, type SubgraphResilience } from './data-source.ts';
import { createUpstreamMetrics } from './upstream-metrics.ts';
import type { TokenAuthenticator } from './modules/auth.ts';
import { createCallerResolver } from './modules/caller.ts';
import { useAccessLog } from './modules/access-log.ts';
import { useOperationMetrics } from './modules/operation-metrics.ts';
import { useBrowserSecurity } from './modules/browser.ts';
import { compileTrustProxy, createClientOrigin } from './modules/client-origin.ts';
import { useHealthRoutes } from './modules/health.ts';
import { useHttpErrors } from './modules/http-errors.ts';
import { useDocumentLimits, type DocumentLimits } from './modules/limits/index.ts';
import { useRepresentationDedup } from './modules/entity-dedup.ts';
import { useInflightDedup } from './modules/inflight-dedup.ts';
import type { GatewayModule, UpgradeRefusal } from './modules/module.ts';
import { createPartnerKeyResolver, partnerOf, usePartners } from './modules/partners/index.ts';
import { usePaymentNotifications } from './modules/payment-notifications.ts';
import { usePersistedQueryLists } from './modules/persisted-query-lists/index.ts';
import { useRateLimits } from './modules/rate-limits.ts';
import { useRequestId } from './modules/request-id.ts';
import { redisKeyValueCache } from './modules/redis-key-value-cache.ts';
import { useResponseCache } from './modules/response-cache.ts';
import { useTenants } from './modules/tenant.ts';
import { createOperationEnd, createOperationStart, operationHooksPlugin, trackHttpOperations } from './operations.ts';
import { createRedisRevocationFeed, createSubscriptionServer, rejectHttpSubscriptionsPlugin, type RevocationFeed } from './subscriptions/index.ts';

/**
 * Size of each of Apollo's per-operation caches — Apollo Server's parsed documents and the gateway's query plans — in
 * MiB as Apollo counts them (JSON size), instead of 30 each. A parsed document weighs about 3.7 times its JSON on the
 * heap (its locations hold graphql-js's whole token list, which JSON leaves out): measured, the default document
 * store alone kept 48 MiB after 10,000 fuzzed requests, and a full one would keep over 100 MiB. 4 MiB still holds
 * hundreds of ordinary operations.
 */
const DOCUMENT_CACHES_MIB = 4;

export type { TokenAuthenticator } from './modules/auth.ts';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Without one, every bearer token is refused (there is nothing to verify it with). */
  authenticate?: TokenAuthenticator;
  /** Public keys served at /.well-known/jwks.json. */
  jwks?: JSONWebKeySet;
  /** The supergraph SDL; default: read from SUPERGRAPH_PATH or schema/supergraph.graphql. */
  supergraphSdl?: string;
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /**
   * The gateway's Redis (sessions, readiness, rate limits). Default: a client of its own on REDIS_URL /
   * REDIS_KEY_PREFIX, closed on stop.
   */
  redis?: Redis;
  /** Extra modules, after the built-in ones. */
  modules?: GatewayModule[];
  /** Called on stop after the HTTP server closed, to release Redis and other clients. */
  onStop?: () => Promise<void>;
  /**
   * Session revocations that close graphql-ws sockets at once. Default: the identity layer's Redis channel under
   * REDIS_URL / REDIS_KEY_PREFIX, on its own connection; `false`: none (the periodic session re-check remains).
   */
  sessionRevocations?: RevocationFeed | false;
}

export interface GatewayServer {
  /** The document limits, for every other way a document arrives (persisted operations). */
  documentLimits: DocumentLimits;
  app: Express;
  httpServer: HttpServer;
  metrics: Metrics;
  listen(port: number, host?: string): Promise<string>;
  /** Origin of the ops port (`/readyz`, `/metrics`) once listening, when OPS_PORT is set. */
  opsOrigin(): string | undefined;
  stop(): Promise<void>;
}

export function readSupergraph(config: Pick<GatewayConfig, 'SUPERGRAPH_PATH'>): string {
  // src/ and dist/ both sit one level below gateway/, so this resolves the committed file in either.
  const path = config.SUPERGRAPH_PATH ?? fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));
  return readFileSync(path, 'utf8');
}

/**
 * Builds the gateway without listening: `@apollo/gateway` on the static, build-time-composed supergraph, inside
 * Apollo Server 5 on server-kit's HTTP shell (health, readiness, metrics, stop), with graphql-ws on the same path.
 * Each cross-cutting feature is a module (gateway/src/modules) whose hooks both transports call.
 */
export async function createGatewayServer(options: GatewayOptions): Promise<GatewayServer> {
  const { config, logger } = options;
  const ownRedis = options.redis ? undefined : createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, name: 'gateway', logger });
  const redis = options.redis ?? ownRedis!;
  const signCredential = createCredentialSigner({ secret: config.INTERNAL_TOKEN_SECRET, issuer: 'gateway' });
  const subgraphUrls: Record<string, string> = {
    user: config.USER_SUBGRAPH_URL,
    conversation: config.CONVERSATION_SUBGRAPH_URL,
    image: config.IMAGE_SUBGRAPH_URL,
    billing: config.BILLING_SUBGRAPH_URL,
  };
  const production = config.NODE_ENV === 'production';
  const httpErrors = useHttpErrors({ logger, maxBodyBytes: config.MAX_BODY_BYTES });
  const documentLimits = useDocumentLimits({
    maxDepth: config.MAX_QUERY_DEPTH,
    maxAliases: config.MAX_QUERY_ALIASES,
    maxRootFields: config.MAX_QUERY_ROOT_FIELDS,
    maxExpandedFields: config.MAX_QUERY_EXPANDED_FIELDS,
    maxTokens: config.MAX_QUERY_TOKENS,
    maxCost: config.MAX_QUERY_COST,
    defaultListSize: config.QUERY_COST_DEFAULT_LIST_SIZE,
  });
  // Partners' lists before the document limits: an operation named by id gets its listed text first, which the
  // limits then check like any other document.
  const persistedQueryLists = usePersistedQueryLists({
    redis,
    createSubscriber: () =>
      createRedis({ url: config.REDIS_URL, keyPrefix: redis.options.keyPrefix ?? '', name: 'gateway-persisted-query-lists', logger, maxRetriesPerRequest: null }),
    closeSubscriber: closeRedis,
    logger,
    limits: documentLimits.limits,
    partnerOf: (identity) => partnerOf(identity)?.partnerId,
  });
  const trustProxy = compileTrustProxy(config.TRUST_PROXY);
  const originOf = createClientOrigin(trustProxy);
  const representationDedup = useRepresentationDedup();
  // Tenants' hosts and suspensions, from MySQL through the user subgraph's copy in Redis (modules/tenant.ts).
  const tenants = useTenants({
    redis,
    createSubscriber: () => createRedis({ url: config.REDIS_URL, keyPrefix: redis.options.keyPrefix ?? '', name: 'gateway-tenants', logger, maxRetriesPerRequest: null }),
    closeSubscriber: closeRedis,
    logger,
    recheckMs: config.PLATFORM_STATE_RECHECK_MS,
  });
  const modules: GatewayModule[] = [
    useRequestId(),
    useBrowserSecurity({ origins: corsOriginsOf(config), production }),
    useHealthRoutes({ jwks: options.jwks, subgraphUrls, redis }),
    httpErrors,
    tenants,
    useRateLimits({
      redis,
      logger,
      clientIpOf: (message) => originOf(message).clientIp,
      anonymousPerIp: config.RATE_LIMIT_ANONYMOUS_PER_IP,
      perUser: config.RATE_LIMIT_PER_USER,
      // rateLimitPerUserPerMinute, set by operators at run time (setSetting), overrides it.
      settings: followSettings({ redis, logger, recheckMs: config.PLATFORM_STATE_RECHECK_MS }),
      subscribesPerUser: config.SUBSCRIPTION_START_RATE_PER_USER,
      maxSocketsPerIp: config.SUBSCRIPTION_MAX_CONNECTIONS_PER_IP,
    }),
    persistedQueryLists,
    documentLimits,
    useResponseCache({ redis, logger, enabled: config.RESPONSE_CACHE_ENABLED }),
    usePaymentNotifications({ billingUrl: subgraphUrls.billing!, logger, timeoutMs: config.SUBGRAPH_TIMEOUT_MS }),
    useAccessLog({ logger }),
    representationDedup,
    ...(options.modules ?? []),
  ];

  const shell = createHttpShell({
    service: 'gateway',
    logger,
    readiness: modules.flatMap((m) => m.readiness ?? []),
    before: modules.flatMap((m) => (m.headers ? [m.headers] : [])),
    opsPort: config.OPS_PORT,
  });
  const { app, httpServer, metrics } = shell;
  for (const module of modules) module.metrics?.(metrics.registry);
  // Partner requests (x-api-key): signature and per-key limit once the body is read, so before the persisted query
  // lists and the document limits: an unsigned or over-limit request is refused before its list is consulted.
  // Built here for the metrics registry; it has no headers or readiness checks for the shell to know about.
  const partnerKeys = createPartnerKeyResolver({
    userSubgraphUrl: subgraphUrls.user!,
    signCredential,
    redis,
    logger,
    cacheTtlMs: config.PARTNER_KEY_CACHE_SECONDS * 1000,
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    failuresPerIp: config.PARTNER_KEY_FAILURES_PER_IP,
    registry: metrics.registry,
  });
  modules.splice(
    modules.indexOf(persistedQueryLists),
    0,
    usePartners({
      partnerKeys,
      logger,
      registry: metrics.registry,
      userSubgraphUrl: subgraphUrls.user!,
      signCredential,
      defaultRatePerMinute: config.PARTNER_KEY_RATE_LIMIT_PER_MINUTE,
      signatureWindowSeconds: config.PARTNER_SIGNATURE_WINDOW_SECONDS,
      lastUsedFlushMs: config.PARTNER_LAST_USED_FLUSH_SECONDS * 1000,
      timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    })
  );
  // In-flight merging counts its merged calls in the shell's registry; it wraps subgraph calls right inside
  // representation dedup, as before the shell existed.
  modules.splice(modules.indexOf(representationDedup) + 1, 0, useInflightDedup({ registry: metrics.registry }));
  // Per-operation metrics need the shell's registry, so they join the modules here (before the hooks are collected).
  modules.push(useOperationMetrics({ registry: metrics.registry }));
  app.set('trust proxy', trustProxy);
  const resolveCaller = createCallerResolver({ config, logger, trustProxy, authenticate: options.authenticate, partnerKeys, tenants: tenants.directory });
  const beforeOperation = createOperationStart(modules);
  const callerKnown = modules.flatMap((module) => (module.callerKnown ? [module.callerKnown] : []));
  const afterOperation = createOperationEnd(modules, logger);

  const resilience: SubgraphResilience = {
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    maxResponseBytes: config.SUBGRAPH_MAX_RESPONSE_BYTES,
    breakerFailures: config.SUBGRAPH_BREAKER_FAILURES,
    breakerHalfOpenMs: config.SUBGRAPH_BREAKER_HALF_OPEN_MS,
  };
  const upstreamMetrics = createUpstreamMetrics(metrics.registry, Object.keys(subgraphUrls));
  // Kept by name for subscriptions, which run the per-event entity fetches through the very same data sources.
  const dataSources = new Map<string, CredentialedDataSource>();
  const subgraphWsUrls = parseSubgraphWsUrls(config.SUBSCRIPTION_SUBGRAPH_WS_URLS);
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl ?? readSupergraph(config),
    // Query plans by operation, LRU, counted by their JSON size (see DOCUMENT_CACHES_MIB).
    experimental_approximateQueryPlanStoreMiB: DOCUMENT_CACHES_MIB,
    buildService: ({ name, url }) => {
      const httpUrl = subgraphUrls[name] ?? url ?? '';
      if (!subgraphWsUrls.has(name) && /^https?:/.test(httpUrl)) subgraphWsUrls.set(name, httpUrl.replace(/^http/, 'ws'));
      const wrap = modules.flatMap((m) => (m.subgraphCall ? [m.subgraphCall] : []));
      const dataSource = new CredentialedDataSource({ name, url: httpUrl, resilience, logger, wrap, ...upstreamMetrics });
      dataSources.set(name, dataSource);
      return dataSource;
    },
  });

  const formatError = createFormatError({
    exposeDetails: config.NODE_ENV === 'development',
    trustDownstreamCodes: true,
    onMasked: (error) => logger.error({ err: error }, 'masked an internal error'),
  });
  // Subscriptions: graphql-ws on the same server and path (gateway/src/subscriptions; docs/architecture.md, "Subscriptions through the gateway").
  const subscriptions = createSubscriptionServer({
    config,
    logger,
    registry: metrics.registry,
    resolveCaller,
    signCredential,
    dataSources,
    wsUrlOf: (name) => subgraphWsUrls.get(name),
    formatError,
    documentLimits: documentLimits.limits,
    beforeOperation,
    afterOperation,
    revocations:
      options.sessionRevocations === false
        ? undefined
        : (options.sessionRevocations ?? createRedisRevocationFeed({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger })),
  });
  gateway.onSchemaLoadOrUpdate((schema) => {
    for (const module of modules) module.schema?.(schema);
    subscriptions.onSchemaLoadOrUpdate(schema);
  });
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: config.MAX_BODY_BYTES });
  wsServer.on('headers', (headers, request) => {
    for (const module of modules) {
      for (const [name, value] of Object.entries(module.upgradeHeaders?.(request) ?? {})) headers.push(`${name}: ${value}`);
    }
  });
  const wsServerCleanup = useServer(subscriptions.serverOptions, wsServer, config.SUBSCRIPTION_KEEPALIVE_MS);
  subscriptions.attach(wsServer);
  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    void acceptUpgrade(request, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'graphql-ws upgrade failed');
      refuseUpgrade(socket, { status: 500, message: 'Internal server error' });
    });
  });
  const acceptUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (new URL(request.url ?? '/', 'http://gateway').pathname !== '/graphql') return refuseUpgrade(socket, { status: 400, message: 'Bad Request' });
    for (const module of modules) {
      const refusal = await module.upgrade?.(request);
      if (refusal) return refuseUpgrade(socket, refusal);
    }
    if (socket.destroyed) return;
    wsServer.handleUpgrade(request, socket, head, (ws) => {
      ws.once('close', () => {
        for (const module of modules) module.upgradeClosed?.(request);
      });
      wsServer.emit('connection', ws, request);
    });
  };
  // Complete every subscription (client and subgraph both get `complete`), then close the sockets (1001). Runs
  // before Apollo's HTTP drain, whose Stopper half-closes at once every socket without a pending HTTP request —
  // upgraded WebSocket sockets included — which would cut the `complete` messages off.
  let webSocketsClosed: Promise<void> | undefined;
  const closeWebSockets = () =>
    (webSocketsClosed ??= (async () => {
      await subscriptions.drain();
      await wsServerCleanup.dispose();
    })());

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    csrfPrevention: true,
    // Automatic persisted queries (Apollo's protocol) in the gateway's Redis, so a hash registered through one replica
    // runs on every other (Apollo Server adds `apq:` to the keys). A text registered is checked against the document
    // limits first (it arrives with the hash); a hash alone is checked once its text is read (limits module).
    persistedQueries: { cache: redisKeyValueCache(redis, logger, '', 'automatic persisted queries'), ttl: config.APQ_TTL_SECONDS },
    // Parsed and validated documents, LRU, counted by their JSON (see DOCUMENT_CACHES_MIB).
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: DOCUMENT_CACHES_MIB * 1_048_576 }),
    // The process entry owns SIGTERM/SIGINT (handleProcessSignals); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return { drainServer: closeWebSockets };
        },
      },
      rejectHttpSubscriptionsPlugin<GatewayContext>(),
      production || !config.SANDBOX_ENABLED
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
      metrics.apolloPlugin as ApolloServerPlugin<GatewayContext>,
      operationHooksPlugin(beforeOperation),
      ...modules.flatMap((module) => (module.apollo ? [module.apollo] : [])),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();
  const gatewayContextOf = (res: Response): GatewayContext => {
    const { identity, requestId, logger: requestLogger } = res.locals.caller as Awaited<ReturnType<typeof resolveCaller>>;
    let credential: Promise<string> | undefined;
    return { identity, requestId, logger: requestLogger, credential: () => (credential ??= signCredential(identity)), operation: res.locals.operation };
  };

  for (const module of modules) module.routes?.(app);
  app.use(
    '/graphql',
    metrics.httpMiddleware,
    trackHttpOperations(afterOperation),
    ...modules.flatMap((module) => (module.http ? [module.http] : [])),
    async (req, res, next) => {
      try {
        const caller = await resolveCaller(req, req.get('authorization'));
        res.locals.caller = caller;
        res.locals.operation.identity = caller.identity;
        for (const hook of callerKnown) hook(res.locals.operation);
        next();
      } catch (error) {
        next(error);
      }
    },
    express.json({
      limit: config.MAX_BODY_BYTES,
      // Partner requests keep the body exactly as received: their signature covers its bytes (modules/partners).
      verify: (_req, res, body) => {
        if ((res as Response).locals.caller?.partnerKey) (res as Response).locals.rawBody = body;
      },
    }),
    ...modules.flatMap((module) => (module.httpBody ? [module.httpBody] : [])),
    // A POST whose body express.json read goes to Apollo straight (server-kit's executeGraphQLPost, as the subgraphs
    // do): the same Apollo request handling, without `url.parse` and `res.send`, which hashed every answer into an
    // ETag that a POST can never be revalidated with. GET (and a POST without a JSON body) keeps the Express
    // integration, and with it ETag revalidation and its answer to a missing body.
    (req, res, next) => {
      if (req.method !== 'POST' || req.body === undefined) return next();
      executeGraphQLPost(apollo, req, res, req.body, async () => gatewayContextOf(res)).catch(next);
    },
    expressMiddleware(apollo, { context: async ({ res }) => gatewayContextOf(res) }),
  );
  app.use(httpErrors.httpError);
  // Anything else: a JSON 404 that keeps the security headers (Express's own HTML page replaces the CSP).
  app.use((_req, res) => void res.status(404).json({ errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] }));

  return {
    documentLimits: documentLimits.limits,
    app,
    httpServer,
    metrics,
    listen: (port, host) => shell.listen(port, host),
    opsOrigin: () => shell.opsOrigin(),
    stop: shell.createStop(
      async () => {
        await closeWebSockets();
        await apollo.stop();
      },
      async () => {
        await subscriptions.close();
        await Promise.all([...dataSources.values()].map((source) => source.close()));
        for (const module of modules) await module.stop?.();
        if (ownRedis) await closeRedis(ownRedis);
        await options.onStop?.();
      },
    ),
  };
}

/** Answers a refused graphql-ws upgrade with a plain HTTP response and closes the socket. */
function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ errors: [{ message: refusal.message }] });
  const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...refusal.headers };
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Refused'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}
