import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GatewayContext } from '../context.ts';

/**
 * Identical entity fetches of one connection's subscription events, merged while they are in flight
 * (docs/architecture.md, "Subscriptions through the gateway"). Several subscriptions of one client that resolve the
 * same fields of the same entity at the same moment (e.g. `owner { creditBalance { available } }` of two image jobs
 * of one user whose events arrive together) send one request to the subgraph, and each gets its own copy of the
 * answer.
 *
 * One instance per graphql-ws connection: everything merged was asked by the same signed-in user with the same
 * gateway credential (the connection's), so no answer ever reaches another user. The key is the subgraph, the
 * document and the variables, exactly; nothing is kept once the request has settled (no caching: the next event
 * fetches again and sees any change since).
 */
interface Joiner {
  resolve: (response: GatewayGraphQLResponse) => void;
  reject: (error: unknown) => void;
}

export class InFlightFetches {
  private readonly inFlight = new Map<string, Joiner[]>();

  /** `onMerged`: told of every fetch answered by joining one already in flight (metrics). */
  constructor(private readonly onMerged?: (subgraph: string) => void) {}

  /** The data sources of one subscription, merging their fetches through this connection's map. */
  wrap(dataSources: ReadonlyMap<string, GraphQLDataSource>): Map<string, GraphQLDataSource> {
    return new Map([...dataSources].map(([name, source]) => [name, { process: (options: GraphQLDataSourceProcessOptions<GatewayContext>) => this.process(name, source, options) }]));
  }

  /** Requests in flight now (0 once every one settled: nothing is kept). */
  get size(): number {
    return this.inFlight.size;
  }

  process(name: string, source: GraphQLDataSource, options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { query, variables } = options.request;
    // Only reads are merged (an event's plan only reads; a mutation document is never shared).
    if (!query || /^\s*mutation\b/.test(query)) return source.process(options);
    const key = `${name}\0${query}\0${JSON.stringify(variables ?? {})}`;
    const joiners = this.inFlight.get(key);
    if (joiners) {
      this.onMerged?.(name);
      return new Promise((resolve, reject) => joiners.push({ resolve, reject }));
    }
    const own: Joiner[] = [];
    this.inFlight.set(key, own);
    let request: Promise<GatewayGraphQLResponse>;
    try {
      request = source.process(options);
    } catch (error) {
      this.inFlight.delete(key);
      throw error;
    }
    // Registered before the first caller's own continuation: the entry is gone, and every joiner has its copy, before
    // that caller's executor merges the answer into its result objects (which it does in place).
    request.then(
      (response) => {
        this.inFlight.delete(key);
        for (const joiner of own) joiner.resolve(copyOf(response));
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        for (const joiner of own) joiner.reject(error);
      },
    );
    return request;
  }
}

/** A copy of the answer's JSON parts (the `http` part, read only, is shared). */
function copyOf(response: GatewayGraphQLResponse): GatewayGraphQLResponse {
  return {
    ...response,
    ...(response.data !== undefined ? { data: structuredClone(response.data) } : {}),
    ...(response.errors !== undefined ? { errors: structuredClone(response.errors) } : {}),
    ...(response.extensions !== undefined ? { extensions: structuredClone(response.extensions) } : {}),
  };
}
