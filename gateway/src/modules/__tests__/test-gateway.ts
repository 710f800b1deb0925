import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Identity } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import type { GatewayContext } from '../../context.ts';
import { CredentialedDataSource, type SubgraphResilience } from '../../data-source.ts';
import type { GatewayModule } from '../module.ts';

const RESILIENCE: SubgraphResilience = { timeoutMs: 5_000, requestTimeoutMs: 10_000, maxResponseBytes: 1_000_000, breakerFailures: 50, breakerHalfOpenMs: 1_000 };

/**
 * Our gateway's data sources (with the given `subgraphCall` wrappers, outermost first) on a supergraph of real
 * subgraphs, behind an Apollo Server: the subgraph-call path of the gateway without its HTTP transport.
 */
export async function startTestGateway(supergraphSdl: string, urls: Record<string, string>, wrap: ReadonlyArray<NonNullable<GatewayModule['subgraphCall']>>) {
  const sources: CredentialedDataSource[] = [];
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => {
      const source = new CredentialedDataSource({ name, url: urls[name]!, resilience: RESILIENCE, wrap });
      sources.push(source);
      return source;
    },
  });
  const server = new ApolloServer<GatewayContext>({ gateway });
  await server.start();
  return {
    /** Runs one operation as `identity`, whose fetches carry `credential`; the single result. */
    async execute(identity: Identity, credential: string, query: string, variables?: Record<string, unknown>) {
      const contextValue = {
        identity,
        requestId: identity.requestId,
        logger: createLogger({ service: 'test', level: 'silent' }),
        credential: async () => credential,
        operation: { transport: 'http', requestId: identity.requestId, startedAt: performance.now(), operationType: 'query', errorCodes: [] },
      } satisfies GatewayContext;
      const response = await server.executeOperation({ query, variables }, { contextValue });
      if (response.body.kind !== 'single') throw new Error('expected a single result');
      return response.body.singleResult;
    },
    async stop() {
      await server.stop();
      await Promise.all(sources.map((source) => source.close()));
    },
  };
}
