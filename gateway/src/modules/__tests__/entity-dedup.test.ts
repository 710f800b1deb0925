import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRepresentationDedup } from '../entity-dedup.ts';
import { startTestGateway } from './test-gateway.ts';

// Two real subgraphs over HTTP: `posts` lists posts with their author (a User reference), `users` resolves users.
// Authors repeat; one user is missing (null entity), one user's email fails (an error inside _entities), and the
// profile is an object the gateway merges into each author.
const ALL_POSTS = [
  { id: 'p1', title: 'one', authorId: 'u1' },
  { id: 'p2', title: 'two', authorId: 'u2' },
  { id: 'p3', title: 'three', authorId: 'u1' },
  { id: 'p4', title: 'four', authorId: 'ghost' },
  { id: 'p5', title: 'five', authorId: 'u2' },
  { id: 'p6', title: 'six', authorId: 'u1' },
  { id: 'p7', title: 'seven', authorId: 'ghost' },
  { id: 'p8', title: 'eight', authorId: 'u3' },
];
/** What `posts` answers now. */
let POSTS = ALL_POSTS;
const USERS: Record<string, { id: string; name: string }> = { u1: { id: 'u1', name: 'Ann' }, u2: { id: 'u2', name: 'Bo' }, u3: { id: 'u3', name: 'Cy' } };

const postsTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Post @key(fields: "id") { id: ID! title: String! author: User }
  type User @key(fields: "id", resolvable: false) { id: ID! }
  type Query { posts: [Post!]! }
`);
const usersTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type User @key(fields: "id") { id: ID! name: String! email: String profile: Profile! }
  type Profile { bio: String! tags: [String!]! }
  type Query { user(id: ID!): User }
`);

/** Every `representations` variable the users subgraph received. */
const usersReceived: unknown[][] = [];
const servers: ApolloServer[] = [];
let supergraphSdl: string;
const urls: Record<string, string> = {};

beforeAll(async () => {
  const posts = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: postsTypeDefs,
      resolvers: { Query: { posts: () => POSTS }, Post: { author: (post: { authorId: string }) => ({ __typename: 'User', id: post.authorId }) } },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const users = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: usersTypeDefs,
      resolvers: {
        Query: { user: (_: unknown, { id }: { id: string }) => USERS[id] ?? null },
        User: {
          __resolveReference: (reference: { id: string }) => USERS[reference.id] ?? null,
          email: (user: { id: string }) => {
            if (user.id === 'u2') throw new GraphQLError('email hidden', { extensions: { code: 'FORBIDDEN' } });
            return `${user.id}@example.test`;
          },
          profile: (user: { id: string; name: string }) => ({ bio: `I am ${user.name}`, tags: [user.id, 'x'] }),
        },
      },
    }),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          const representations = request.variables?.representations;
          if (Array.isArray(representations)) usersReceived.push(representations);
        },
      },
    ],
  });
  servers.push(posts, users);
  urls.posts = (await startStandaloneServer(posts, { listen: { port: 0, host: '127.0.0.1' } })).url;
  urls.users = (await startStandaloneServer(users, { listen: { port: 0, host: '127.0.0.1' } })).url;
  const composed = composeServices([
    { name: 'posts', url: urls.posts, typeDefs: postsTypeDefs },
    { name: 'users', url: urls.users, typeDefs: usersTypeDefs },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;
});
afterAll(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** Our gateway's data sources, with or without the dedup module, behind an Apollo Server; runs one query. */
async function runThroughGateway(dedup: boolean, query: string) {
  const gateway = await startTestGateway(supergraphSdl, urls, dedup ? [useRepresentationDedup().subgraphCall!] : []);
  try {
    usersReceived.length = 0;
    const result = await gateway.execute({ kind: 'anonymous', tenantId: 'default', requestId: 'req-1' }, 'signed-credential', query);
    return { result, received: usersReceived.splice(0) };
  } finally {
    await gateway.stop();
  }
}

const QUERY = /* GraphQL */ `
  {
    posts { id title author { id name email profile { bio tags } } }
  }
`;

describe('representation dedup', () => {
  it('sends each distinct representation once and gives the client the very same answer, nulls and error paths included', async () => {
    const plain = await runThroughGateway(false, QUERY);
    const deduped = await runThroughGateway(true, QUERY);

    // Without the dedup the users subgraph gets one representation per post; with it, one per distinct author,
    // in first-occurrence order.
    expect(plain.received).toEqual([POSTS.map((post) => ({ __typename: 'User', id: post.authorId }))]);
    expect(deduped.received).toEqual([['u1', 'u2', 'ghost', 'u3'].map((id) => ({ __typename: 'User', id }))]);

    // The answer, errors (with their paths) and all, is identical.
    expect(deduped.result).toEqual(plain.result);
    // And it is what the data says: the missing user is null at both of its posts, u2's email fails at both of its.
    const posts = (deduped.result.data as { posts: Array<{ id: string; author: { id: string; email: string | null; profile: { bio: string } } | null }> }).posts;
    expect(posts.map((post) => post.author?.id ?? null)).toEqual(['u1', 'u2', 'u1', null, 'u2', 'u1', null, 'u3']);
    expect(posts[5]!.author!.profile.bio).toBe('I am Ann');
    expect(deduped.result.errors?.map((error) => ({ path: error.path, code: error.extensions?.code }))).toEqual([
      { path: ['posts', 1, 'author', 'email'], code: 'FORBIDDEN' },
      { path: ['posts', 4, 'author', 'email'], code: 'FORBIDDEN' },
    ]);
  });

  it('sends a fetch without duplicates as it is', async () => {
    POSTS = ALL_POSTS.filter((post) => post.id !== 'p3' && post.id !== 'p5' && post.id !== 'p6' && post.id !== 'p7');
    try {
      const plain = await runThroughGateway(false, QUERY);
      const deduped = await runThroughGateway(true, QUERY);
      expect(deduped.received).toEqual([['u1', 'u2', 'ghost', 'u3'].map((id) => ({ __typename: 'User', id }))]);
      expect(deduped.result).toEqual(plain.result);
    } finally {
      POSTS = ALL_POSTS;
    }
  });
});
