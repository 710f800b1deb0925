import type { IncomingMessage } from 'node:http';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { ExecutionArgs, GraphQLError, GraphQLSchema } from 'graphql';
import type { Context, ServerOptions } from 'graphql-ws';
import { decodeJwt } from 'jose';
import WebSocket, { type WebSocketServer } from 'ws';
import { CREDENTIAL_PARAM, type Identity } from '@firefly/auth';
import type { SessionRevokedEvent } from '@firefly/auth/sessions';
import { AppError, internalError, rateLimited, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import type { Caller, ResolveCaller } from '../modules/caller.ts';
import type { DocumentLimits } from '../modules/limits/index.ts';
import { requestIdOf } from '../modules/request-id.ts';
import type { OperationRecord } from '../modules/module.ts';
import { startOperation } from '../operations.ts';
import { admitSubscription, type Admission } from './admission.ts';
import { createRefreshingCredential } from './credential.ts';
import type { EndReason } from './end-reason.ts';
import { formatOne, unwrapEndErrors, type FormatError } from './errors.ts';
import { FederatedSubscription } from './federated-subscription.ts';
import { InFlightFetches } from './in-flight-fetches.ts';
import { createSubscriptionMetrics } from './metrics.ts';
import { SubscriptionPlanner } from './planner.ts';
import type { RevocationFeed } from './revocations.ts';
import { UpstreamConnections } from './upstream.ts';

type UserIdentity = Extract<Identity, { kind: 'user' }>;

export type SubscriptionConfig = Pick<
  GatewayConfig,
  | 'MAX_BODY_BYTES'
  | 'SUBSCRIPTION_CONNECTION_INIT_TIMEOUT_MS'
  | 'SUBSCRIPTION_MAX_PER_CONNECTION'
  | 'SUBSCRIPTION_MAX_CONNECTIONS_PER_USER'
  | 'SUBSCRIPTION_MAX_ACTIVE'
  | 'SUBSCRIPTION_MAX_QUEUED_EVENTS'
  | 'SUBSCRIPTION_LATEST_STATE_FIELDS'
  | 'SUBSCRIPTION_AUTH_RECHECK_SECONDS'
  | 'SUBSCRIPTION_UPSTREAM_KEEPALIVE_MS'
  | 'SUBSCRIPTION_UPSTREAM_CONNECT_TIMEOUT_MS'
>;

export interface SubscriptionServerOptions {
  config: SubscriptionConfig;
  logger: Logger;
  /** The gateway's metrics registry. */
  registry: Registry;
  /** The same request identity, tenant, client origin and token authentication as HTTP. */
  resolveCaller: ResolveCaller;
  signCredential: (identity: Identity) => Promise<string>;
  /** The gateway's subgraph data sources by name, for per-event entity fetches. */
  dataSources: ReadonlyMap<string, GraphQLDataSource>;
  /** graphql-ws URL of a subgraph. */
  wsUrlOf: (subgraph: string) => string | undefined;
  /** The gateway's Apollo Server `formatError`, so errors look the same on both transports. */
  formatError: FormatError;
  /** The gateway's document limits (the same as on HTTP). */
  documentLimits: DocumentLimits;
  /** The modules' `beforeOperation` hooks, run once a subscription is admitted; an AppError refuses it. */
  beforeOperation: (context: GatewayContext) => Promise<void>;
  /** The modules' `afterOperation` hooks, run when a subscription has ended (or was refused). */
  afterOperation: (record: OperationRecord) => void;
  /** Session revocation signals; optional (the periodic re-check still closes revoked sessions). */
  revocations?: RevocationFeed | undefined;
}

/** Per client socket. */
interface Connection {
  id: string;
  identity: UserIdentity;
  userKey: string;
  socket: WebSocket;
  logger: Logger;
  /** The context of one operation on this socket (each subscription has its own operation record). */
  contextOf: (operation: OperationRecord) => GatewayContext;
  upstream: UpstreamConnections;
  /** Identical entity fetches of this socket's subscription events, merged while in flight (one user, one credential). */
  fetches: InFlightFetches;
  subscriptions: Set<FederatedSubscription>;
  openedAt: number;
  /** Set before the server closes the socket itself, so its subscriptions end with this reason. */
  closing: EndReason | null;
  timers: NodeJS.Timeout[];
  /** graphql-ws's own state of this socket (its `subscriptions` map empties once every `complete` went out). */
  ws: WsContext;
}

interface Extra {
  connection?: Connection;
}

/** What onSubscribe hands to `subscribe` through graphql-ws. */
interface SubscriptionContextValue {
  connection: Connection;
  operationId: string;
  admission: Extract<Admission, { kind: 'admitted' }>;
  planner: SubscriptionPlanner;
  context: GatewayContext;
}

/** The code the client saw when a subscription ended for this reason (access log). */
const END_REASON_CODES: Partial<Record<EndReason, string>> = {
  upstream_unavailable: 'UPSTREAM_UNAVAILABLE',
  slow_consumer: 'RATE_LIMITED',
  internal_error: 'INTERNAL_SERVER_ERROR',
};

type WsContext = Context<Record<string, unknown>, Extra & { socket: WebSocket; request: IncomingMessage }>;

/** Time given to graphql-ws to send every `complete` on shutdown before the sockets close. */
const SHUTDOWN_FLUSH_MS = 2_000;
/** An idle upstream socket is kept this long for the connection's next subscription (e.g. the next chat reply). */
const UPSTREAM_LAZY_CLOSE_MS = 5_000;
/** setTimeout's ceiling; longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Federated subscriptions over graphql-ws (docs/architecture.md, "Subscriptions through the gateway"): authenticates `connection_init` like the
 * HTTP path, admits and plans each subscription, runs it as a {@link FederatedSubscription}, closes revoked and
 * expired sessions, enforces the limits, and completes everything on shutdown. The gateway wires the returned
 * `serverOptions` into `useServer` on the same HTTP server and path as Apollo Server.
 */
export function createSubscriptionServer(options: SubscriptionServerOptions) {
  const { config, logger } = options;
  const metrics = createSubscriptionMetrics(options.registry);
  const latestStateFields = new Set(config.SUBSCRIPTION_LATEST_STATE_FIELDS.split(',').map((field) => field.trim()).filter(Boolean));
  const connections = new Set<Connection>();
  const bySession = new Map<string, Set<Connection>>();
  const perUser = new Map<string, number>();
  let activeSubscriptions = 0;
  let planner: SubscriptionPlanner | undefined;
  let phase: { kind: 'serving' } | { kind: 'draining' } = { kind: 'serving' };
  let revocationFeed: Promise<{ close(): Promise<void> } | undefined> | undefined;

  function startRevocationFeed(): void {
    if (revocationFeed || !options.revocations) return;
    revocationFeed = options.revocations(onSessionRevoked).catch((error: unknown) => {
      logger.error({ err: error }, 'cannot listen for session revocations; relying on the periodic re-check');
      return undefined;
    });
  }

  function onSessionRevoked(event: SessionRevokedEvent): void {
    for (const connection of bySession.get(event.sessionId) ?? []) {
      if (connection.identity.userId !== event.userId || connection.identity.tenantId !== event.tenantId) continue;
      connection.logger.info({ reason: event.reason }, 'closing a graphql-ws connection: session revoked');
      closeConnection(connection, 'unauthorized', 4403, 'Session revoked');
    }
  }

  function closeConnection(connection: Connection, reason: EndReason, code: number, text: string): void {
    connection.closing ??= reason;
    connection.socket.close(code, text);
  }

  function register(connection: Connection): void {
    connections.add(connection);
    let sessionConnections = bySession.get(connection.identity.sessionId);
    if (!sessionConnections) bySession.set(connection.identity.sessionId, (sessionConnections = new Set()));
    sessionConnections.add(connection);
    perUser.set(connection.userKey, (perUser.get(connection.userKey) ?? 0) + 1);
    metrics.connectionOpened();
  }

  function unregister(connection: Connection): void {
    if (!connections.delete(connection)) return;
    const sessionConnections = bySession.get(connection.identity.sessionId);
    sessionConnections?.delete(connection);
    if (sessionConnections?.size === 0) bySession.delete(connection.identity.sessionId);
    const count = (perUser.get(connection.userKey) ?? 1) - 1;
    if (count > 0) perUser.set(connection.userKey, count);
    else perUser.delete(connection.userKey);
    metrics.connectionClosed();
  }

  /** Close at token expiry (4403: the client reconnects with a fresh token), and re-check the session now and then. */
  function scheduleChecks(connection: Connection, token: string, recheckCaller: () => Promise<unknown>): void {
    const exp = expiryOf(token);
    if (exp !== undefined) {
      const timer = setTimeout(() => closeConnection(connection, 'unauthorized', 4403, 'Access token expired'), Math.min(Math.max(0, exp - Date.now()), MAX_TIMER_MS));
      timer.unref();
      connection.timers.push(timer);
    }
    const periodMs = config.SUBSCRIPTION_AUTH_RECHECK_SECONDS * 1_000;
    const recheck = async () => {
      if (connection.socket.readyState !== WebSocket.OPEN) return;
      try {
        await recheckCaller();
      } catch (error) {
        // Redis down: keep the connection (HTTP would answer UPSTREAM_UNAVAILABLE, not sign anyone out).
        if (error instanceof AppError && error.code === 'UPSTREAM_UNAVAILABLE') return;
        connection.logger.info('closing a graphql-ws connection: session no longer valid');
        closeConnection(connection, 'unauthorized', 4403, 'Session no longer valid');
      }
    };
    // Jittered start, so sockets opened together are not all re-checked in the same instant.
    const first = setTimeout(() => {
      void recheck();
      const interval = setInterval(() => void recheck(), periodMs);
      interval.unref();
      connection.timers.push(interval);
    }, Math.floor(periodMs * (0.5 + Math.random() / 2)));
    first.unref();
    connection.timers.push(first);
  }

  async function onConnect(ctx: WsContext): Promise<boolean> {
    const { socket, request } = ctx.extra;
    if (phase.kind === 'draining') {
      // 1012 Service Restart: graphql-ws clients retry, and the load balancer sends them to another replica.
      socket.close(1012, 'Service restart');
      return false;
    }
    const connectionLogger = logger.child({ requestId: requestIdOf(request) });
    const refuse = (reason: string): false => {
      metrics.refused(reason);
      connectionLogger.info({ reason }, 'graphql-ws connection refused');
      return false;
    };
    // Anonymous sockets are not served: every subscription field needs a signed-in user.
    const authorization = ctx.connectionParams?.['authorization'];
    if (typeof authorization !== 'string') return refuse('missing_token');
    const params = ctx.connectionParams ?? {};
    const resolve = () => options.resolveCaller(request, authorization, params);
    let caller: Caller;
    try {
      caller = await resolve();
    } catch (error) {
      if (error instanceof AppError && error.code === 'UPSTREAM_UNAVAILABLE') {
        // Sessions cannot be checked (Redis down): 1013 Try Again Later, which graphql-ws clients retry.
        socket.close(1013, 'Try again later');
        return refuse('sessions_unavailable');
      }
      if (error instanceof AppError && error.code === 'BAD_USER_INPUT') return refuse('invalid_tenant');
      return refuse('unauthenticated');
    }
    const { identity, requestId, token } = caller;
    if (identity.kind !== 'user' || !token) return refuse('not_a_user');
    // The client may have left while we were checking.
    if (socket.readyState !== WebSocket.OPEN) return false;
    const userKey = `${identity.tenantId}:${identity.userId}`;
    if ((perUser.get(userKey) ?? 0) >= config.SUBSCRIPTION_MAX_CONNECTIONS_PER_USER) {
      // 1008 Policy Violation: graphql-ws clients treat it as fatal instead of reconnecting in a loop.
      socket.close(1008, 'Too many connections for this user');
      return refuse('connections_per_user');
    }

    const connectionLoggerWithUser = caller.logger.child({ userId: identity.userId, tenantId: identity.tenantId });
    const credential = createRefreshingCredential(options.signCredential, identity);
    const connection: Connection = {
      id: requestId,
      identity,
      userKey,
      socket,
      logger: connectionLoggerWithUser,
      contextOf: (operation) => ({ identity, requestId, logger: connectionLoggerWithUser, credential, operation }),
      upstream: new UpstreamConnections({
        wsUrlOf: options.wsUrlOf,
        connectionParams: async () => ({ [CREDENTIAL_PARAM]: await options.signCredential(identity) }),
        keepAliveMs: config.SUBSCRIPTION_UPSTREAM_KEEPALIVE_MS,
        connectTimeoutMs: config.SUBSCRIPTION_UPSTREAM_CONNECT_TIMEOUT_MS,
        lazyCloseMs: UPSTREAM_LAZY_CLOSE_MS,
        maxPayloadBytes: config.MAX_BODY_BYTES * 4,
        metrics,
        logger: connectionLoggerWithUser,
      }),
      fetches: new InFlightFetches(metrics.entityFetchMerged),
      subscriptions: new Set(),
      openedAt: Date.now(),
      closing: null,
      timers: [],
      ws: ctx,
    };
    ctx.extra.connection = connection;
    register(connection);
    scheduleChecks(connection, token, resolve);
    startRevocationFeed();
    connection.logger.debug('graphql-ws connection opened');
    return true;
  }

  async function onSubscribe(ctx: WsContext, id: string, payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null }): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const connection = ctx.extra.connection;
    if (!connection || !planner) return [internalError()];
    const record = startOperation('ws', ctx.extra.request, connection.identity.clientIp);
    record.identity = connection.identity;
    record.operationType = 'subscription';
    record.operationName = payload.operationName ?? undefined;
    const refuse = (reason: string | undefined, errors: readonly GraphQLError[]): readonly GraphQLError[] => {
      if (reason) metrics.refused(reason);
      for (const error of errors) record.errorCodes.push(String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
      options.afterOperation(record);
      return errors;
    };
    if (phase.kind === 'draining') return refuse(undefined, [upstreamUnavailable('The gateway is restarting; subscribe again', { service: 'gateway' })]);
    // graphql-ws has already recorded this id (as null) in ctx.subscriptions, so the count includes it.
    if (Object.keys(ctx.subscriptions).length > config.SUBSCRIPTION_MAX_PER_CONNECTION) {
      return refuse('subscriptions_per_connection', [rateLimited(5, `At most ${config.SUBSCRIPTION_MAX_PER_CONNECTION} subscriptions per connection; complete one first`)]);
    }
    if (activeSubscriptions >= config.SUBSCRIPTION_MAX_ACTIVE) {
      return refuse('subscriptions_per_replica', [rateLimited(5, 'This gateway is at its subscription capacity; try again shortly')]);
    }
    const admission = admitSubscription(payload, planner, options.documentLimits, connection.logger);
    if (admission.kind === 'refused') return refuse('invalid_operation', admission.errors);
    record.operationName = admission.displayName ?? record.operationName;
    const context = connection.contextOf(record);
    try {
      await options.beforeOperation(context);
    } catch (error) {
      if (error instanceof AppError) return refuse(error.code === 'RATE_LIMITED' ? 'rate_limited' : 'refused', [error]);
      throw error;
    }
    // The client may have completed the subscription or closed the socket meanwhile.
    if (ctx.subscriptions[id] === undefined || connection.socket.readyState !== WebSocket.OPEN) return refuse(undefined, []);
    const contextValue: SubscriptionContextValue = { connection, operationId: id, admission, planner, context };
    return {
      schema: planner.apiGraphQLSchema,
      document: admission.document,
      operationName: admission.operationName,
      variableValues: admission.variables,
      contextValue,
    };
  }

  function subscribe(args: ExecutionArgs): FederatedSubscription {
    const { connection, operationId, admission, planner: plannerOfSubscription, context } = args.contextValue as SubscriptionContextValue;
    activeSubscriptions++;
    const subscription = new FederatedSubscription({
      id: operationId,
      field: admission.field,
      source: admission.source,
      operationName: admission.operationName,
      displayName: admission.displayName,
      variables: admission.variables,
      plan: admission.plan,
      planner: plannerOfSubscription,
      operationContext: admission.operationContext,
      dataSources: options.dataSources,
      fetches: connection.fetches,
      upstream: connection.upstream,
      context,
      maxQueuedEvents: config.SUBSCRIPTION_MAX_QUEUED_EVENTS,
      latestState: latestStateFields.has(admission.field),
      metrics,
      logger: connection.logger,
      onEnded: (ended, reason) => {
        activeSubscriptions--;
        connection.subscriptions.delete(ended);
        context.operation.endReason = reason;
        const code = END_REASON_CODES[reason];
        if (code) context.operation.errorCodes.push(code);
        options.afterOperation(context.operation);
      },
      returnReason: () => connection.closing ?? (connection.socket.readyState === WebSocket.OPEN ? 'client_complete' : 'client_disconnect'),
    });
    connection.subscriptions.add(subscription);
    return subscription;
  }

  const serverOptions: ServerOptions<Record<string, unknown>, Extra & { socket: WebSocket; request: IncomingMessage }> = {
    connectionInitWaitTimeout: config.SUBSCRIPTION_CONNECTION_INIT_TIMEOUT_MS,
    // Every hook below is guarded: graphql-ws/use/ws turns a throw into a 4500 close plus a console.error line.
    onConnect: async (ctx) => {
      try {
        return await onConnect(ctx);
      } catch (error) {
        logger.error({ err: error }, 'graphql-ws onConnect failed');
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      try {
        return await onSubscribe(ctx, id, payload);
      } catch (error) {
        logger.error({ err: error }, 'graphql-ws onSubscribe failed');
        return [internalError()];
      }
    },
    subscribe: (args) => subscribe(args),
    // Queries and mutations are refused in onSubscribe; nothing reaches execute.
    execute: () => ({ errors: [internalError()] }),
    onNext: (_ctx, _id, _payload, _args, result) => {
      if (!result.errors?.length) return undefined;
      return { ...result, errors: result.errors.map((error) => formatOne(options.formatError, error)) };
    },
    onError: (_ctx, _id, _payload, errors) => unwrapEndErrors(errors).map((error) => formatOne(options.formatError, error)),
    onClose: (ctx, code) => {
      const connection = ctx.extra.connection;
      if (!connection) return;
      for (const timer of connection.timers) clearTimeout(timer);
      // graphql-ws has already returned every subscription iterator; whatever is left (still being set up) ends now.
      for (const subscription of [...connection.subscriptions]) subscription.end(connection.closing ?? 'client_disconnect');
      connection.upstream.dispose();
      unregister(connection);
      connection.logger.debug({ code, reason: connection.closing ?? undefined, durationMs: Date.now() - connection.openedAt }, 'graphql-ws connection closed');
    },
  };

  return {
    serverOptions,

    /** `ApolloGateway.onSchemaLoadOrUpdate`: a planner per supergraph; running subscriptions keep their own plan. */
    onSchemaLoadOrUpdate({ apiSchema, coreSupergraphSdl }: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }): void {
      try {
        planner = new SubscriptionPlanner(coreSupergraphSdl, apiSchema);
      } catch (error) {
        logger.error({ err: error }, 'cannot build the subscription planner for this supergraph; keeping the previous one');
      }
    },

    /** Extra listeners on the WebSocket server: an `error` on a socket or the server must never go unhandled. */
    attach(wss: WebSocketServer): void {
      wss.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));
      wss.on('connection', (socket) => {
        socket.on('error', (error) => logger.debug({ err: { message: error.message } }, 'malformed WebSocket traffic; socket closed'));
        // Before graphql-ws's own listener: a client sending a message only servers send would make graphql-ws
        // throw, and graphql-ws/use/ws answers a throw with 4500 (internal error). It is the client's protocol error:
        // 4400, as for any other invalid message (found by the fuzz suite, tests/e2e/fuzz).
        socket.prependListener('message', (data: WebSocket.RawData) => {
          if (socket.readyState !== WebSocket.OPEN) return;
          const text = String(data);
          if (SERVER_ONLY_MESSAGE.test(text) && SERVER_ONLY_TYPES.has(messageTypeOf(text) ?? '')) socket.close(4400, 'Invalid message received');
        });
      });
    },

    /**
     * Shutdown, first step: refuse new sockets and subscriptions, complete every subscription (the client gets
     * `complete`, the subgraph gets `complete`), and give graphql-ws a moment to send those messages. The caller then
     * closes the sockets (graphql-ws's dispose: 1001 Going Away).
     */
    async drain(): Promise<void> {
      phase = { kind: 'draining' };
      const all = [...connections].flatMap((connection) => [...connection.subscriptions]);
      for (const subscription of all) subscription.end('shutdown');
      const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
      const flushing = (c: Connection) => c.socket.readyState === WebSocket.OPEN && (Object.keys(c.ws.subscriptions).length > 0 || c.socket.bufferedAmount > 0);
      while (Date.now() < deadline && [...connections].some(flushing)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (all.length > 0) logger.info({ subscriptions: all.length, connections: connections.size }, 'completed every subscription for shutdown');
    },

    /** Shutdown, last step: stop listening for revocations. */
    async close(): Promise<void> {
      const feed = await revocationFeed;
      await feed?.close();
    },
  };
}

/** Expiry (epoch ms) of an access token the authenticator has just verified. */
function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1_000 : undefined;
  } catch {
    return undefined;
  }
}

/** graphql-transport-ws message types only a server sends. */
const SERVER_ONLY_TYPES = new Set(['connection_ack', 'next', 'error']);
/** A cheap pre-check before parsing: the frame mentions one of those types. */
const SERVER_ONLY_MESSAGE = /"(?:connection_ack|next|error)"/;

function messageTypeOf(text: string): string | undefined {
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
