import type { ClientRequestArgs } from 'node:http';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '@firefly/logger';
import { SubscriptionEndError, upstreamGone } from './errors.ts';
import type { SubscriptionMetrics } from './metrics.ts';

/** What a federated subscription hears from its upstream operation. */
export interface UpstreamSink {
  next(result: ExecutionResult): void;
  /** The operation cannot continue: UPSTREAM_UNAVAILABLE, or the subgraph's own errors (SubscriptionEndError). */
  error(error: Error, reason: 'upstream_unavailable' | 'upstream_error'): void;
  complete(): void;
}

export interface UpstreamConnectionsOptions {
  /** graphql-ws URL of each subgraph that serves subscriptions. */
  wsUrlOf: (subgraph: string) => string | undefined;
  /** `connection_init` payload for a new upstream socket: the gateway credential, freshly signed. */
  connectionParams: () => Promise<Record<string, unknown>>;
  /** Ping interval on the upstream socket; no pong within the same time terminates it (UPSTREAM_UNAVAILABLE). */
  keepAliveMs: number;
  /** TCP + WebSocket handshake, then `connection_ack`, each within this time. */
  connectTimeoutMs: number;
  /** An idle upstream socket is kept this long for the connection's next subscription. */
  lazyCloseMs: number;
  /** Largest message accepted from a subgraph. */
  maxPayloadBytes: number;
  metrics: SubscriptionMetrics;
  logger: Logger;
}

interface Operation {
  sink: UpstreamSink;
  unsubscribe: () => void;
}

interface Upstream {
  client: Client;
  operations: Set<Operation>;
}

/**
 * The upstream graphql-ws sockets of ONE client connection, one per subgraph, shared by that connection's
 * subscriptions (per subgraph, principal and credential; docs/architecture.md, "Subscriptions through the gateway").
 *
 * Why not one socket per subgraph shared by all clients: a subgraph authenticates a socket once, at
 * `connection_init` (server-kit's `onConnect`), and runs every operation on it as that identity. Sharing across
 * users would run them all as the first one (mercurius#268). Per connection rather than per user: the credential
 * carries this client's own request id and IP, teardown is exact (client socket gone or revoked → its upstream
 * sockets close), and there is no cross-connection reference counting. The cost — one extra upstream socket per
 * additional client socket of the same user on the same replica — is bounded by the per-user connection limit.
 *
 * No reconnects: graphql-ws would replay the original payload (e.g. the original `afterSeq`) and hide the gap.
 * A dropped upstream socket instead ends its subscriptions with UPSTREAM_UNAVAILABLE, and the client resubscribes
 * with what it has seen; the next subscription opens a fresh socket.
 */
export class UpstreamConnections {
  private readonly upstreams = new Map<string, Upstream>();
  private disposed = false;

  constructor(private readonly options: UpstreamConnectionsOptions) {}

  /** Starts `payload` on `subgraph`; the returned function completes it upstream at once (idempotent). */
  subscribe(subgraph: string, payload: SubscribePayload, sink: UpstreamSink): () => void {
    const upstream = this.disposed ? undefined : this.upstreamFor(subgraph);
    if (!upstream) {
      queueMicrotask(() => sink.error(upstreamGone(subgraph), 'upstream_unavailable'));
      return () => undefined;
    }
    let settled = false;
    const operation: Operation = {
      sink: {
        next: (result) => {
          if (!settled) sink.next(result);
        },
        error: (error, reason) => {
          if (settled) return;
          settled = true;
          upstream.operations.delete(operation);
          sink.error(error, reason);
        },
        complete: () => {
          if (settled) return;
          settled = true;
          upstream.operations.delete(operation);
          sink.complete();
        },
      },
      unsubscribe: () => undefined,
    };
    upstream.operations.add(operation);
    const unsubscribe = upstream.client.subscribe<Record<string, unknown>>(payload, {
      next: (result) => operation.sink.next(result as ExecutionResult),
      error: (error) => operation.sink.error(...this.toError(subgraph, error)),
      complete: () => operation.sink.complete(),
    });
    operation.unsubscribe = () => {
      settled = true;
      upstream.operations.delete(operation);
      // graphql-ws sends `complete` for this id right away; the subgraph's iterator returns on receipt.
      unsubscribe();
    };
    return operation.unsubscribe;
  }

  /** Completes every operation upstream and closes the sockets (the client connection is gone). */
  dispose(): void {
    this.disposed = true;
    for (const [subgraph, upstream] of this.upstreams) {
      for (const operation of [...upstream.operations]) operation.unsubscribe();
      // dispose() rejects when the socket never connected; nothing is left to close then.
      Promise.resolve(upstream.client.dispose()).catch((error: unknown) => this.options.logger.debug({ err: error, subgraph }, 'upstream socket was not open'));
    }
    this.upstreams.clear();
  }

  private upstreamFor(subgraph: string): Upstream | undefined {
    const existing = this.upstreams.get(subgraph);
    if (existing) return existing;
    const url = this.options.wsUrlOf(subgraph);
    if (!url) {
      this.options.logger.error({ subgraph }, 'no graphql-ws URL for the subgraph that owns this subscription');
      return undefined;
    }
    const { keepAliveMs, connectTimeoutMs, maxPayloadBytes, metrics, logger } = this.options;
    const socketOptions: ClientRequestArgs & WebSocket.ClientOptions = { handshakeTimeout: connectTimeoutMs, maxPayload: maxPayloadBytes };
    // graphql-ws builds sockets with `new impl(url, protocol)`; a subclass adds the handshake timeout and size cap.
    class UpstreamWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, socketOptions);
      }
    }
    const upstream: Upstream = {
      operations: new Set(),
      client: createClient({
        url,
        webSocketImpl: UpstreamWebSocket,
        lazy: true,
        lazyCloseTimeout: this.options.lazyCloseMs,
        keepAlive: keepAliveMs,
        connectionAckWaitTimeout: connectTimeoutMs,
        retryAttempts: 0,
        shouldRetry: () => false,
        connectionParams: this.options.connectionParams,
      }),
    };
    let pongTimer: NodeJS.Timeout | undefined;
    let open = false;
    let connectingSince = 0;
    upstream.client.on('connecting', () => {
      connectingSince = Date.now();
    });
    upstream.client.on('connected', () => {
      open = true;
      metrics.upstreamOpened(subgraph);
      logger.debug({ subgraph, connectMs: Date.now() - connectingSince }, 'upstream socket connected');
    });
    // graphql-ws pings on `keepAlive` but never gives up on a missing pong; a frozen subgraph (no FIN, e.g. a
    // dead host behind a proxy) would hang the stream. Terminate after one unanswered interval instead.
    upstream.client.on('ping', (received) => {
      if (received) return;
      clearTimeout(pongTimer);
      pongTimer = setTimeout(() => {
        logger.warn({ subgraph }, 'upstream socket missed its pong; terminating it');
        upstream.client.terminate();
      }, keepAliveMs);
      pongTimer.unref();
    });
    upstream.client.on('pong', (received) => {
      if (received) clearTimeout(pongTimer);
    });
    upstream.client.on('closed', (event) => {
      clearTimeout(pongTimer);
      const wasOpen = open;
      if (open) metrics.upstreamClosed(subgraph);
      open = false;
      const { code, reason } = (event ?? {}) as { code?: number; reason?: unknown };
      // End every operation on this socket ourselves. graphql-ws would retry a 1000 close while operations are
      // active (replaying their original payloads); ending them first releases its locks, so it gives up.
      const operations = [...upstream.operations];
      const details = { subgraph, code, reason: typeof reason === 'string' ? reason.slice(0, 120) : undefined, wasOpen, sinceConnectMs: Date.now() - connectingSince };
      if (operations.length > 0) logger.warn({ ...details, operations: operations.length }, 'upstream socket closed under active subscriptions');
      else logger.debug(details, 'upstream socket closed');
      if (code === 4403 || code === 4401) logger.error({ subgraph, code }, 'subgraph refused the gateway credential on its socket (INTERNAL_TOKEN_SECRET mismatch?)');
      for (const operation of operations) {
        operation.sink.error(upstreamGone(subgraph), 'upstream_unavailable');
        operation.unsubscribe();
      }
    });
    upstream.client.on('error', (error) => logger.debug({ err: error instanceof Error ? error : { message: String((error as { message?: unknown })?.message ?? error) }, subgraph }, 'upstream socket error'));
    this.upstreams.set(subgraph, upstream);
    return upstream;
  }

  private toError(subgraph: string, error: unknown): [Error, 'upstream_unavailable' | 'upstream_error'] {
    // An `error` message: the subgraph refused or failed the operation itself (validation, access, a bug).
    if (Array.isArray(error)) {
      const errors = (error as GraphQLFormattedError[]).map(
        (e) => new GraphQLError(typeof e?.message === 'string' ? e.message : 'Subscription failed in a subgraph', {
            ...(Array.isArray(e?.path) ? { path: e.path } : {}),
            extensions: { ...e?.extensions, serviceName: subgraph },
          }),
      );
      return [new SubscriptionEndError(errors), 'upstream_error'];
    }
    // A close event, a socket error or a protocol violation: the transport is gone.
    return [upstreamGone(subgraph, error), 'upstream_unavailable'];
  }
}
