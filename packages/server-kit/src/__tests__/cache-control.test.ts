import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse, type GraphQLResolveInfo } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticCacheControlPlugin } from '../cache-control.ts';

/**
 * The subgraphs' cache-control header (which the gateway's response cache reads) must be exactly what Apollo's own
 * cache control plugin writes: the same queries against Apollo's plugin and against staticCacheControlPlugin, which
 * decides no-store answers from the document instead of hooking every resolved field.
 */
const typeDefs = (withTypeHint: boolean) => /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
  enum CacheControlScope {
    PUBLIC
    PRIVATE
  }
  type Query {
    catalog: [Item!]! @cacheControl(maxAge: 60)
    privateCatalog: [Item!]! @cacheControl(maxAge: 60, scope: PRIVATE)
    items: [Item!]!
    item(id: ID!): Item
    greeting: String
    zeroed: String @cacheControl(maxAge: 0)
    inherits: Item @cacheControl(inheritMaxAge: true)
    cached: Cached
    fails: String
  }
  type Mutation {
    touch: String
  }
  type Item @key(fields: "id") {
    id: ID!
    name: String
    sub: Item
    hinted: Cached
  }
  type Cached @key(fields: "id") ${withTypeHint ? '@cacheControl(maxAge: 30)' : ''} {
    id: ID!
  }
`;

/** Resolvers record whether Apollo's per-field cache hooks ran (they set `info.cacheControl`). */
let hooked: boolean[] = [];
const record = (info: GraphQLResolveInfo) => hooked.push((info as { cacheControl?: unknown }).cacheControl !== undefined);
const item = (id: string) => ({ id, name: `item ${id}` });
const resolvers = {
  Query: {
    catalog: (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => (record(info), [item('1'), item('2')]),
    privateCatalog: () => [item('1')],
    items: (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => (record(info), [item('1'), item('2')]),
    item: (_: unknown, args: { id: string }) => item(args.id),
    greeting: () => 'hello',
    zeroed: () => 'zero',
    inherits: () => item('3'),
    cached: () => ({ id: 'c' }),
    fails: () => {
      throw new Error('nope');
    },
  },
  Mutation: { touch: () => 'touched' },
  Item: {
    __resolveReference: (reference: { id: string }) => item(reference.id),
    sub: (parent: { id: string }) => item(`${parent.id}.sub`),
    hinted: () => ({ id: 'h' }),
  },
  Cached: { __resolveReference: (reference: { id: string }) => reference },
};

const QUERIES = [
  '{ catalog { id name } }',
  '{ privateCatalog { id } }',
  '{ catalog { id sub { id } } }',
  '{ catalog { id hinted { id } } }',
  '{ items { id name } }',
  '{ item(id: "1") { id } }',
  '{ greeting }',
  '{ zeroed }',
  '{ inherits { id } }',
  '{ cached { id } }',
  '{ catalog { id } items @skip(if: true) { id } }',
  '{ catalog { id } items @include(if: false) { id } }',
  '{ catalog { id } ...F } fragment F on Query { greeting }',
  '{ catalog { id } ... on Query { items { id } } }',
  '{ catalog { id } ... @skip(if: true) { items { id } } }',
  '{ catalog { id } fails }',
  '{ __typename }',
  '{ catalog { id } __typename }',
  'mutation { touch }',
  '{ _entities(representations: [{ __typename: "Item", id: "1" }]) { ... on Item { id name } } }',
  '{ _entities(representations: [{ __typename: "Cached", id: "1" }]) { ... on Cached { id } } }',
  '{ _service { sdl } }',
];

type Servers = { apollo: ApolloServer; ours: ApolloServer };
const servers: Record<'withTypeHint' | 'withoutTypeHint', Servers> = {} as never;

async function start(plugins: ApolloServerPlugin[], withTypeHint: boolean): Promise<ApolloServer> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(typeDefs(withTypeHint)), resolvers: resolvers as GraphQLResolverMap<unknown> }]);
  const server = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled(), ...plugins] });
  await server.start();
  return server;
}

beforeAll(async () => {
  for (const withTypeHint of [true, false]) {
    servers[withTypeHint ? 'withTypeHint' : 'withoutTypeHint'] = {
      apollo: await start([], withTypeHint),
      ours: await start([ApolloServerPluginCacheControlDisabled(), staticCacheControlPlugin()], withTypeHint),
    };
  }
});
afterAll(async () => {
  for (const { apollo, ours } of Object.values(servers)) await Promise.all([apollo.stop(), ours.stop()]);
});

async function headerOf(server: ApolloServer, query: string): Promise<string | undefined> {
  const response = await server.executeOperation({ query });
  return response.http.headers.get('cache-control');
}

describe('the subgraphs’ cache-control header', () => {
  for (const schema of ['withTypeHint', 'withoutTypeHint'] as const) {
    it(`is Apollo’s for every kind of operation (schema ${schema})`, async () => {
      const { apollo, ours } = servers[schema];
      for (const query of QUERIES) {
        // Twice: the second run takes the memoised decision for the same parsed document.
        for (let run = 0; run < 2; run++) expect({ query, header: await headerOf(ours, query) }).toEqual({ query, header: await headerOf(apollo, query) });
      }
    });
  }

  it('says what Apollo’s rules say: the root field’s hint, no-store without one', async () => {
    const { ours } = servers.withoutTypeHint;
    expect(await headerOf(ours, '{ catalog { id name } }')).toBe('max-age=60, public');
    expect(await headerOf(ours, '{ privateCatalog { id } }')).toBe('max-age=60, private');
    expect(await headerOf(ours, '{ items { id } }')).toBe('no-store');
    expect(await headerOf(ours, '{ catalog { id } items @skip(if: true) { id } }')).toBe('max-age=60, public');
    expect(await headerOf(ours, '{ _entities(representations: [{ __typename: "Item", id: "1" }]) { ... on Item { id } } }')).toBe('no-store');
    // An entity type's own hint makes its _entities answer cacheable (@apollo/subgraph's dynamic hint).
    expect(await headerOf(servers.withTypeHint.ours, '{ _entities(representations: [{ __typename: "Cached", id: "1" }]) { ... on Cached { id } } }')).toBe(
      'max-age=30, public',
    );
  });

  it('runs the resolvers of a no-store operation without per-field cache hooks, and keeps them where the answer may be cached', async () => {
    const { ours, apollo } = servers.withoutTypeHint;
    hooked = [];
    await headerOf(ours, '{ items { id } }');
    await headerOf(ours, '{ catalog { id } }');
    await headerOf(apollo, '{ items { id } }');
    expect(hooked).toEqual([false, true, true]);
  });
});
