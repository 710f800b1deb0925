import { createServer, type Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express, type Request } from 'express';
import { useServer } from 'graphql-ws/use/ws';
import proxyaddr from 'proxy-addr';
import { WebSocketServer } from 'ws';
import type { JSONWebKeySet } from 'jose';
import { createCredentialSigner, MAX_USER_AGENT_LENGTH, type Identity, type RequestOrigin } from '@firefly/auth';
import { AppError, createFormatError, unauthenticated } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { createMetrics, createStopper, listenForGraphQL, type Metrics } from '@firefly/server-kit';
import { parseSubgraphWsUrls, parseTenantHosts, type GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { CredentialedDataSource } from './data-source.ts';
import { depthLimitRule } from './plugins/depth-limit.ts';
import { resolveTenant } from './tenant.ts';
import { createRedisRevocationFeed, createSubscriptionServer, rejectHttpSubscriptionsPlugin, type RevocationFeed } from './subscriptions/index.ts';

/** Verifies a client's bearer token; provided by the identity layer. Throws an AppError when the token is bad. */
export type TokenAuthenticator = (token: string, request: { tenantId: string; requestId: string } & RequestOrigin) => Promise<Identity>;

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
  /** Called on stop after the HTTP server closed, to release Redis and other clients. */
  onStop?: () => Promise<void>;
  /**
   * Session revocations that close graphql-ws sockets at once. Default: the identity layer's Redis channel under
   * REDIS_URL / REDIS_KEY_PREFIX, on its own connection; `false`: none (the periodic session re-check remains).
   */
  sessionRevocations?: RevocationFeed | false;
}

export interface GatewayServer {
  app: Express;
  httpServer: HttpServer;
  metrics: Metrics;
  listen(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

export function readSupergraph(config: Pick<GatewayConfig, 'SUPERGRAPH_PATH'>): string {
  // src/ and dist/ both sit one level below gateway/, so this resolves the committed file in either.
  const path = config.SUPERGRAPH_PATH ?? fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));
  return readFileSync(path, 'utf8');
}

/**
 * Builds the gateway without listening: `@apollo/gateway` on the static, build-time-composed supergraph, inside
 * Apollo Server 5 on Express 5. Subgraphs are called with a gateway-issued credential (see CredentialedDataSource).
 */
export async function createGatewayServer(options: GatewayOptions): Promise<GatewayServer> {
  const { config, logger } = options;
  const metrics = createMetrics('gateway');
  const signCredential = createCredentialSigner({ secret: config.INTERNAL_TOKEN_SECRET, issuer: 'gateway' });
  const tenantHosts = parseTenantHosts(config.TENANT_HOSTS);
  const subgraphUrls: Record<string, string> = {
    user: config.USER_SUBGRAPH_URL,
    conversation: config.CONVERSATION_SUBGRAPH_URL,
    image: config.IMAGE_SUBGRAPH_URL,
    billing: config.BILLING_SUBGRAPH_URL,
  };

  // Kept by name for subscriptions, which run the per-event entity fetches through the very same data sources.
  const dataSources = new Map<string, CredentialedDataSource>();
  const subgraphWsUrls = parseSubgraphWsUrls(config.SUBSCRIPTION_SUBGRAPH_WS_URLS);
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl ?? readSupergraph(config),
    buildService: ({ name, url }) => {
      const httpUrl = subgraphUrls[name] ?? url ?? '';
      if (!subgraphWsUrls.has(name) && /^https?:/.test(httpUrl)) subgraphWsUrls.set(name, httpUrl.replace(/^http/, 'ws'));
      const dataSource = new CredentialedDataSource({ name, url: httpUrl, timeoutMs: config.SUBGRAPH_TIMEOUT_MS });
      dataSources.set(name, dataSource);
      return dataSource;
    },
  });

  const app = express();
  app.disable('x-powered-by');
  if (config.TRUST_PROXY) app.set('trust proxy', parseTrustProxy(config.TRUST_PROXY));
  const httpServer = createServer(app);
  const production = config.NODE_ENV === 'production';
  const formatError = createFormatError({
    exposeDetails: config.NODE_ENV === 'development',
    trustDownstreamCodes: true,
    onMasked: (error) => logger.error({ err: error }, 'masked an internal error'),
  });
  const validationRules = [depthLimitRule(config.MAX_QUERY_DEPTH)];

  // Subscriptions: graphql-ws on the same server and path (gateway/src/subscriptions; docs/architecture.md, "Subscriptions through the gateway").
  const subscriptions = createSubscriptionServer({
    config,
    logger,
    registry: metrics.registry,
    authenticate: options.authenticate,
    signCredential,
    tenantHosts,
    clientIpOf: (request) => proxyaddr(request, app.get('trust proxy fn') as (address: string, hop: number) => boolean),
    dataSources,
    wsUrlOf: (name) => subgraphWsUrls.get(name),
    formatError,
    validationRules,
    revocations:
      options.sessionRevocations === false
        ? undefined
        : (options.sessionRevocations ?? createRedisRevocationFeed({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger })),
  });
  gateway.onSchemaLoadOrUpdate((schema) => subscriptions.onSchemaLoadOrUpdate(schema));
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.MAX_BODY_BYTES });
  const wsServerCleanup = useServer(subscriptions.serverOptions, wsServer, config.SUBSCRIPTION_KEEPALIVE_MS);
  subscriptions.attach(wsServer);
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
    // The process entry owns SIGTERM/SIGINT (handleProcessSignals); Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    validationRules,
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
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(subgraphUrls).map(async ([name, url]) => {
        try {
          const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2_000) });
          return { name, ok: response.ok };
        } catch {
          return { name, ok: false };
        }
      }),
    );
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', service: 'gateway', checks });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(options.jwks ?? { keys: [] });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const buildContext = async (req: Request): Promise<GatewayContext> => {
    const requestId = requestIdOf(req);
    const tenantId = resolveTenant({ host: req.get('host'), header: req.get(config.TENANT_HEADER) }, tenantHosts);
    // The client's IP and User-Agent travel to subgraphs inside the signed credential (rate limits, SMS caps,
    // the session list); `req.ip` honours TRUST_PROXY, so a client cannot pick its IP with X-Forwarded-For.
    const origin: RequestOrigin = { ...(req.ip ? { clientIp: req.ip } : {}), ...(req.get('user-agent') ? { userAgent: req.get('user-agent')!.slice(0, MAX_USER_AGENT_LENGTH) } : {}) };
    const identity = await authenticateRequest(req.get('authorization'), { tenantId, requestId, ...origin }, options.authenticate);
    let credential: Promise<string> | undefined;
    return {
      identity,
      requestId,
      logger: logger.child({ requestId }),
      credential: () => (credential ??= signCredential(identity)),
    };
  };

  app.use(
    '/graphql',
    metrics.httpMiddleware,
    (req, res, next) => {
      res.setHeader('x-request-id', requestIdOf(req));
      next();
    },
    express.json({ limit: config.MAX_BODY_BYTES }),
    expressMiddleware(apollo, { context: ({ req }) => buildContext(req) }),
  );
  // Body too large / malformed JSON: answer in GraphQL's error shape rather than Express's HTML page.
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof AppError) {
      res.status(error.code === 'UNAUTHENTICATED' ? 401 : 400).json({ errors: [{ message: error.message, extensions: error.extensions }] });
      return;
    }
    const status = error.status ?? 500;
    const message = error.type === 'entity.too.large' ? `Request body is larger than ${config.MAX_BODY_BYTES} bytes` : status < 500 ? 'Malformed request' : 'Internal server error';
    if (status >= 500) logger.error({ err: error }, 'unhandled error in the HTTP layer');
    res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR' } }] });
  });

  return {
    app,
    httpServer,
    metrics,
    listen: (port, host) => listenForGraphQL(httpServer, port, host),
    stop: createStopper(
      httpServer,
      async () => {
        await closeWebSockets();
        await apollo.stop();
      },
      async () => {
        await subscriptions.close();
        await Promise.all([...dataSources.values()].map((source) => source.close()));
        await options.onStop?.();
      },
    ),
  };
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

/** Honours a well-formed incoming `x-request-id` (from a load balancer) and otherwise makes one. */
function requestIdOf(req: Request): string {
  const cached = (req as Request & { requestId?: string }).requestId;
  if (cached) return cached;
  const incoming = req.get('x-request-id');
  const id = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  (req as Request & { requestId?: string }).requestId = id;
  return id;
}

async function authenticateRequest(
  authorization: string | undefined,
  request: { tenantId: string; requestId: string } & RequestOrigin,
  authenticate: TokenAuthenticator | undefined,
): Promise<Identity> {
  if (!authorization) return { kind: 'anonymous', ...request };
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  // A token we cannot verify is refused, never treated as anonymous (docs/api-guide.md, "Tokens").
  if (!match?.[1] || !authenticate) throw unauthenticated('Invalid access token');
  return authenticate(match[1], request);
}

/** TRUST_PROXY as Express takes it: a hop count (`1`), `true`, or addresses/subnets/names (`loopback, 10.0.0.0/8`). */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
