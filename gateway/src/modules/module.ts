import type { IncomingMessage } from 'node:http';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Express, RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Registry } from 'prom-client';
import type { Identity } from '@firefly/auth';
import type { ReadinessCheck } from '@firefly/server-kit';
import type { GatewayContext } from '../context.ts';

/**
 * One GraphQL operation as every transport reports it: an HTTP request, or a subscription on a graphql-ws socket.
 * Transports create it when the request arrives and fill it in as they learn more; modules read it.
 */
export interface OperationRecord {
  transport: 'http' | 'ws';
  requestId: string;
  /** `performance.now()` when the request (or the subscribe message) arrived. */
  startedAt: number;
  operationName?: string | undefined;
  operationType?: 'query' | 'mutation' | 'subscription' | undefined;
  /** `apollographql-client-name` / `-version` as the client sent them (length-capped). */
  clientName?: string | undefined;
  clientVersion?: string | undefined;
  clientIp?: string | undefined;
  identity?: Identity | undefined;
  /** The id of the partner's listed operation the request ran (persisted query lists; partner requests only). */
  partnerOperationId?: string | undefined;
  /** HTTP status of the answer (HTTP only). */
  status?: number | undefined;
  /** Why a subscription ended (graphql-ws only), e.g. `client_complete`, `upstream_unavailable`. */
  endReason?: string | undefined;
  /** `extensions.code` of every error the client received. */
  errorCodes: string[];
}

/** A subgraph call as `RemoteGraphQLDataSource.process` makes it; modules wrap it (deadlines, breakers, retries). */
export type SubgraphCall = (options: GraphQLDataSourceProcessOptions<GatewayContext>) => Promise<GatewayGraphQLResponse>;

/** Why a graphql-ws upgrade is refused before the socket opens: an HTTP status and a short reason. */
export interface UpgradeRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * One cross-cutting feature of the gateway, in one file (the way Hive Gateway's `useRequestId`, `useUpstreamTimeout`
 * … plugins are). Every hook is optional; `createGatewayServer` calls them in list order on each transport, so a
 * feature written once applies to HTTP and graphql-ws alike.
 */
export interface GatewayModule {
  readonly name: string;
  /** Middleware in front of every route of the public app, health routes included (security headers). */
  readonly headers?: RequestHandler;
  /** Routes of its own on the public app, mounted before `/graphql` (e.g. the JWKS, CORS on `/graphql`). */
  readonly routes?: (app: Express) => void;
  /** Express middleware in front of `/graphql`, before the body is read (headers, CORS, per-IP limits). */
  readonly http?: RequestHandler;
  /** Express middleware on `/graphql` once the JSON body is parsed, before Apollo Server sees it (document checks). */
  readonly httpBody?: RequestHandler;
  /** An Apollo Server plugin for the HTTP transport (response cache, …). */
  readonly apollo?: ApolloServerPlugin<GatewayContext>;
  /** graphql-ws: the HTTP upgrade, before the socket is accepted. Return a refusal to answer it instead. */
  readonly upgrade?: (request: IncomingMessage) => UpgradeRefusal | undefined | Promise<UpgradeRefusal | undefined>;
  /** graphql-ws: headers added to the 101 answer of the upgrade. */
  readonly upgradeHeaders?: (request: IncomingMessage) => Record<string, string>;
  /** graphql-ws: the socket of an accepted upgrade closed. */
  readonly upgradeClosed?: (request: IncomingMessage) => void;
  /**
   * HTTP: the request's caller is known (`operation.identity`), before its body is read: start what
   * `beforeOperation` will need, so that it runs while the body is read and the document checked. Must not throw.
   */
  readonly callerKnown?: (operation: OperationRecord) => void;
  /**
   * Before an operation runs, on either transport, once its document is known and accepted: throw an AppError to
   * refuse it (rate limits).
   */
  readonly beforeOperation?: (context: GatewayContext) => void | Promise<void>;
  /** Once an operation has ended, on either transport (access log). Must not throw. */
  readonly afterOperation?: (record: OperationRecord) => void;
  /** Wraps every call to one subgraph (deadlines, circuit breakers, retries). */
  readonly subgraphCall?: (subgraph: string, next: SubgraphCall) => SubgraphCall;
  /** Called with every supergraph the gateway loads: its API schema and its full (core) SDL. */
  readonly schema?: (update: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void;
  /** Metrics of its own, registered once the shell's registry exists (served on `/metrics`). */
  readonly metrics?: (registry: Registry) => void;
  /** Dependencies `/readyz` must see healthy. */
  readonly readiness?: readonly ReadinessCheck[];
  /** Releases what the module holds, on gateway stop. */
  readonly stop?: () => Promise<void>;
}
