import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

/** A two-subgraph supergraph for unit tests: `stream` owns a subscription whose events carry a `users` entity. */
export function composeToySupergraph(): string {
  const result = composeServices([
    {
      name: 'stream',
      url: 'http://stream.invalid/graphql',
      typeDefs: parse(/* GraphQL */ `
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        type Tick { n: Int! note: String user: User }
        type User @key(fields: "id", resolvable: false) { id: ID! }
        type Query { ping: Boolean }
        type Subscription { ticks(from: Int): Tick! }
      `),
    },
    {
      name: 'users',
      url: 'http://users.invalid/graphql',
      typeDefs: parse(/* GraphQL */ `
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        type User @key(fields: "id") { id: ID! name: String! }
        type Query { me: User }
      `),
    },
  ]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}
