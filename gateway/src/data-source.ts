import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, request as httpRequest } from 'undici';
import { CREDENTIAL_HEADER } from '@firefly/auth';
import { upstreamUnavailable } from '@firefly/errors';
import type { GatewayContext } from './context.ts';
import type { SubgraphCall } from './modules/module.ts';

export interface CredentialedDataSourceOptions {
  name: string;
  url: string;
  /** A fetch that does not answer within this many milliseconds fails with UPSTREAM_UNAVAILABLE. */
  timeoutMs: number;
  /** Wrappers around every call (modules' `subgraphCall`), outermost first. */
  wrap?: ReadonlyArray<(subgraph: string, next: SubgraphCall) => SubgraphCall>;
}

/**
 * Calls a subgraph with the gateway-issued credential of the current request. Nothing the client sent is
 * forwarded as-is: the subgraph learns who is calling only from the signed credential. Transport failures
 * (refused, reset, timed out, a non-2xx answer) become UPSTREAM_UNAVAILABLE naming the service, never a raw
 * socket error.
 */
export class CredentialedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly serviceName: string;
  private readonly agent: Agent;
  private readonly call: SubgraphCall;

  constructor(options: CredentialedDataSourceOptions) {
    // One keep-alive pool per subgraph, driven through undici's request API. The stock fetcher, make-fetch-happen
    // (a retry wrapper and minipass streams around node-fetch), is the largest CPU cost of a federated request after
    // result merging; Node's global fetch (web streams) is not much cheaper.
    const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
    super({ url: options.url, fetcher: createUndiciFetcher(agent) });
    this.agent = agent;
    this.serviceName = options.name;
    const base: SubgraphCall = (processOptions) => this.fetchOnce(processOptions);
    this.call = (options.wrap ?? []).reduceRight<SubgraphCall>((next, wrap) => wrap(options.name, next), base);
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    // Health checks and schema loading run without a request context; they carry no identity.
    if (!context || !('credential' in context)) return;
    request.http?.headers.set(CREDENTIAL_HEADER, await context.credential());
    request.http?.headers.set('x-request-id', context.requestId);
  }

  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    return this.call(options);
  }

  private async fetchOnce(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      const context = options.context as Partial<GatewayContext> | undefined;
      context?.logger?.warn({ err: error, subgraph: this.serviceName }, 'subgraph fetch failed');
      throw upstreamUnavailable(`The ${this.serviceName} service is unavailable`, { service: this.serviceName }, error);
    }
  }

  /** Closes the keep-alive connections (gateway shutdown). */
  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The slice of the fetch API that RemoteGraphQLDataSource uses, over undici's lower-level (and cheaper) request. */
function createUndiciFetcher(agent: Agent): Fetcher {
  return async (url, init) => {
    const response = await httpRequest(url, {
      method: (init?.method ?? 'POST') as 'POST',
      headers: init?.headers as Record<string, string> | undefined,
      body: init?.body as string | undefined,
      dispatcher: agent,
    });
    const text = await response.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    }
    const result: FetcherResponse = {
      ok: response.statusCode >= 200 && response.statusCode < 300,
      status: response.statusCode,
      statusText: '',
      url,
      headers,
      bodyUsed: true,
      redirected: false,
      text: async () => text,
      json: async () => JSON.parse(text) as unknown,
      arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
      clone: () => result,
    } as FetcherResponse;
    return result;
  };
}
