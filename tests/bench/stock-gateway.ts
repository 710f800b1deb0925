// Baseline for `npm run bench`: a stock @apollo/gateway inside a stock @apollo/server (startStandaloneServer,
// default settings) on the same supergraph. The only addition is the one header our subgraphs require: a
// gateway credential, signed once up front (a stock gateway has no notion of it).
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const env = process.env;
const urls: Record<string, string> = {
  user: env.USER_SUBGRAPH_URL!,
  conversation: env.CONVERSATION_SUBGRAPH_URL!,
  image: env.IMAGE_SUBGRAPH_URL!,
  billing: env.BILLING_SUBGRAPH_URL!,
};
const credential = env.STATIC_CREDENTIAL!;

class StaticCredentialDataSource extends RemoteGraphQLDataSource {
  override willSendRequest({ request }: { request: { http?: { headers: { set(name: string, value: string): void } } } }) {
    request.http?.headers.set('x-firefly-credential', credential);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8'),
  buildService: ({ name, url }) => new StaticCredentialDataSource({ url: urls[name] ?? url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(env.GATEWAY_PORT), host: '127.0.0.1' } });
console.log(`ready ${url}`);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
