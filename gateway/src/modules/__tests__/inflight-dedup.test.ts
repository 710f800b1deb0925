import { createServer, type Server } from 'node:http';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_HEADER, type Identity } from '@firefly/auth';
import { useInflightDedup } from '../inflight-dedup.ts';
import type { SubgraphCall } from '../module.ts';
import { startTestGateway } from './test-gateway.ts';

// A real catalog subgraph over HTTP that answers nothing until the test opens its gate, so the gateway's fetches are
// all in flight at the same moment; it counts the operations that reach it and answers with the credential it got.
const catalogTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Model @key(fields: "id") { id: ID! name: String! tags: [String!]! }
  type Query { models(first: Int!): [Model!]! viewer: String broken: String }
  type Mutation { touch: Int! }
`);
// A subgraph that answers every request with HTTP 503 once the gate opens (composed in, served by a bare HTTP server).
const downTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { status: String }
`);

const MODELS = [
  { id: 'm1', name: 'qwen-max', tags: ['chat', 'long'] },
  { id: 'm2', name: 'qwen-plus', tags: ['chat'] },
  { id: 'm3', name: 'wanx', tags: ['image'] },
];

/** Operations that reached each subgraph (catalog: by the Apollo plugin, down: by the HTTP server). */
const reached = { catalog: 0, down: 0 };
/** Opens when the test says the gateway's fetches are all waiting; replaced per test. */
let gate: Promise<void> = Promise.resolve();
let touches = 0;

const servers: ApolloServer[] = [];
let downServer: Server;
let supergraphSdl: string;
const urls: Record<string, string> = {};

beforeAll(async () => {
  const catalog = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: catalogTypeDefs,
      resolvers: {
        Query: {
          models: async (_: unknown, { first }: { first: number }) => {
            await gate;
            return MODELS.slice(0, first);
          },
          viewer: async (_: unknown, __: unknown, context: unknown) => {
            await gate;
            return (context as { credential: string }).credential;
          },
          broken: async () => {
            await gate;
            throw new GraphQLError('catalog is being rebuilt', { extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
          },
        },
        Mutation: {
          touch: async () => {
            await gate;
            return ++touches;
          },
        },
      },
    }),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart() {
          reached.catalog++;
        },
      },
    ],
  });
  servers.push(catalog);
  urls.catalog = (
    await startStandaloneServer(catalog, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ credential: String(req.headers[CREDENTIAL_HEADER] ?? '') }),
    })
  ).url;
  downServer = createServer((request, response) => {
    reached.down++;
    request.resume();
    void gate.then(() => response.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance'));
  });
  await new Promise<void>((resolve) => downServer.listen(0, '127.0.0.1', resolve));
  const address = downServer.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  urls.down = `http://127.0.0.1:${address.port}/`;

  const composed = composeServices([
    { name: 'catalog', url: urls.catalog, typeDefs: catalogTypeDefs },
    { name: 'down', url: urls.down, typeDefs: downTypeDefs },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;
});
afterAll(async () => {
  for (const server of servers.splice(0)) await server.stop();
  await new Promise((resolve) => downServer.close(resolve));
});


const anonymous = (n: number, clientIp = '203.0.113.7'): Identity => ({ kind: 'anonymous', tenantId: 'default', requestId: `req-${n}`, clientIp, userAgent: `agent-${n}` });
const user = (userId: string, n: number): Identity => ({ kind: 'user', tenantId: 'default', requestId: `req-${n}`, userId, roles: ['USER'], sessionId: `s-${userId}` });

/**
 * Runs one operation per identity, all at once, through our data sources (with or without the module) behind an
 * Apollo Server, the subgraphs holding their answers until every fetch has entered the gateway's subgraph calls.
 */
async function runConcurrently(merge: boolean, identities: Identity[], query: string, variables?: Record<string, unknown>) {
  const registry = new Registry();
  let entered = 0;
  let openGate!: () => void;
  gate = new Promise<void>((resolve) => (openGate = resolve));
  // Outermost wrapper: counts the fetches the gateway makes; once all are in, the subgraphs may answer.
  const countEntered = (_subgraph: string, next: SubgraphCall): SubgraphCall => (options) => {
    if (++entered === identities.length) setTimeout(openGate, 20);
    return next(options);
  };
  const gateway = await startTestGateway(supergraphSdl, urls, merge ? [countEntered, useInflightDedup({ registry }).subgraphCall!] : [countEntered]);
  reached.catalog = 0;
  reached.down = 0;
  try {
    const results = await Promise.all(
      identities.map((identity) =>
        gateway.execute(identity, `credential-of-${identity.kind === 'user' ? identity.userId : identity.kind}-${identity.requestId}`, query, variables)
      )
    );
    return { results, reached: { ...reached }, merged: await mergedCalls(registry) };
  } finally {
    openGate();
    await gateway.stop();
  }
}

/** `gateway_subgraph_calls_merged_total` by subgraph, read from the registry's Prometheus text as /metrics serves it. */
async function mergedCalls(registry: Registry): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, subgraph, value] of (await registry.metrics()).matchAll(/^gateway_subgraph_calls_merged_total\{subgraph="(\w+)"\} (\d+)$/gm)) {
    counts[subgraph!] = Number(value);
  }
  return counts;
}

const CATALOG = /* GraphQL */ `
  query Catalog($first: Int!) {
    models(first: $first) { id name tags }
  }
`;
const N = 12;
const everyone = (n: number, make: (i: number) => Identity) => Array.from({ length: n }, (_, i) => make(i));

describe('in-flight merging of identical anonymous queries', () => {
  it('sends N identical anonymous catalog queries upstream once and gives every client the whole answer', async () => {
    const plain = await runConcurrently(false, everyone(N, anonymous), CATALOG, { first: 3 });
    const merged = await runConcurrently(true, everyone(N, anonymous), CATALOG, { first: 3 });

    expect(plain.reached.catalog).toBe(N);
    expect(merged.reached.catalog).toBe(1);
    for (const result of merged.results) expect(result).toEqual({ data: { models: MODELS } });
    expect(merged.results).toEqual(plain.results);
    // Every call but the one that went upstream is counted as merged.
    expect(merged.merged).toEqual({ catalog: N - 1, down: 0 });
  });

  it('does not merge anonymous queries whose client IP or tenant differ', async () => {
    const identities = [anonymous(1, '198.51.100.1'), anonymous(2, '198.51.100.2'), { ...anonymous(3), tenantId: 'other' }, anonymous(4)];
    const distinct = await runConcurrently(true, identities, CATALOG, { first: 2 });
    expect(distinct.reached.catalog).toBe(4);
    expect(distinct.merged).toEqual({ catalog: 0, down: 0 });
    for (const result of distinct.results) expect(result).toEqual({ data: { models: MODELS.slice(0, 2) } });
  });

  it('never merges two signed-in users, so each gets the answer made for their own credential', async () => {
    const VIEWER = '{ viewer }';
    const results = await runConcurrently(true, [user('u-ann', 1), user('u-bo', 2), user('u-ann', 3)], VIEWER);
    expect(results.reached.catalog).toBe(3);
    expect(results.merged).toEqual({ catalog: 0, down: 0 });
    expect(results.results.map((result) => (result.data as { viewer: string }).viewer)).toEqual([
      'credential-of-u-ann-req-1',
      'credential-of-u-bo-req-2',
      'credential-of-u-ann-req-3',
    ]);
  });

  it('never merges mutations', async () => {
    touches = 0;
    const results = await runConcurrently(true, everyone(4, anonymous), 'mutation { touch }');
    expect(results.reached.catalog).toBe(4);
    expect(results.results.map((result) => (result.data as { touch: number }).touch).sort()).toEqual([1, 2, 3, 4]);
  });

  it('gives every merged client the error of the one upstream call', async () => {
    const inBody = await runConcurrently(true, everyone(N, anonymous), '{ broken }');
    expect(inBody.reached.catalog).toBe(1);
    for (const result of inBody.results) {
      expect(result.data).toEqual({ broken: null });
      expect(result.errors?.map((error) => ({ message: error.message, path: error.path, code: error.extensions?.code }))).toEqual([
        { message: 'catalog is being rebuilt', path: ['broken'], code: 'UPSTREAM_UNAVAILABLE' },
      ]);
    }

    const failed = await runConcurrently(true, everyone(N, anonymous), '{ status }');
    expect(failed.reached.down).toBe(1);
    expect(failed.merged).toEqual({ catalog: 0, down: N - 1 });
    for (const result of failed.results) {
      expect(result.errors?.map((error) => ({ code: error.extensions?.code, service: error.extensions?.service, reason: error.extensions?.reason }))).toEqual([
        { code: 'UPSTREAM_UNAVAILABLE', service: 'down', reason: 'bad_status' },
      ]);
    }
  });
});
