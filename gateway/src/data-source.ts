// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration must reach every project that compiles this file
/// <reference path="./make-fetch-happen.d.ts" />
import makeFetchHappen from 'make-fetch-happen';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { CREDENTIAL_HEADER } from '@firefly/auth';
import { upstreamUnavailable } from '@firefly/errors';
import type { GatewayContext } from './context.ts';

export interface CredentialedDataSourceOptions {
  name: string;
  url: string;
  /** A fetch that does not answer within this many milliseconds fails with UPSTREAM_UNAVAILABLE. */
  timeoutMs: number;
}

/**
 * Calls a subgraph with the gateway-issued credential of the current request. Nothing the client sent is
 * forwarded as-is: the subgraph learns who is calling only from the signed credential. Transport failures
 * (refused, reset, timed out) become UPSTREAM_UNAVAILABLE naming the service, never a raw socket error.
 */
export class CredentialedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly serviceName: string;

  constructor(options: CredentialedDataSourceOptions) {
    super({
      url: options.url,
      // The data source's own default fetcher (make-fetch-happen with unbounded keep-alive sockets, no retries),
      // plus a per-request timeout. Node's global fetch with AbortSignal.timeout() costs noticeably more CPU per
      // subgraph call (web streams, a transferable signal per request).
      fetcher: makeFetchHappen.defaults({ maxSockets: Infinity, retry: false, timeout: options.timeoutMs }) as never,
    });
    this.serviceName = options.name;
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    // Health checks and schema loading run without a request context; they carry no identity.
    if (!context || !('credential' in context)) return;
    request.http?.headers.set(CREDENTIAL_HEADER, await context.credential());
    request.http?.headers.set('x-request-id', context.requestId);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      const context = options.context as Partial<GatewayContext> | undefined;
      context?.logger?.warn({ err: error, subgraph: this.serviceName }, 'subgraph fetch failed');
      throw upstreamUnavailable(`The ${this.serviceName} service is unavailable`, { service: this.serviceName }, error);
    }
  }
}
