import { randomUUID } from 'node:crypto';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, print, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { closeRedis, createRedis } from '@firefly/redis';
import { createRateLimits } from '../rate-limits.ts';

const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: process.env.REDIS_KEY_PREFIX, name: 'rate-limits-test' });
afterAll(() => closeRedis(redis));

const sdl = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  directive @rateLimit(limit: Int! = 60, duration: Int! = 60) on OBJECT | FIELD_DEFINITION
  type Query {
    hello: String
  }
  type Mutation @rateLimit(limit: 3, duration: 600) {
    write: Int
    strict: Int @rateLimit(limit: 1, duration: 600)
  }
  type Subscription @rateLimit(limit: 2, duration: 600) {
    ticks: Int
  }
`;

/** A fresh subgraph name per test keeps counters apart (the prefix of its keys). */
function build(overrides = '', per: 'caller' | 'client-ip' = 'caller'): GraphQLSchema {
  const limits = createRateLimits(`test-${randomUUID()}`, { redis, per, overrides });
  let writes = 0;
  const schema = buildSubgraphSchema([
    {
      typeDefs: limits.typeDefs(parse(sdl)),
      resolvers: {
        Query: { hello: () => 'hi' },
        Mutation: { write: () => ++writes, strict: () => 1 },
        Subscription: {
          ticks: {
            subscribe: async function* () {
              for (let i = 1; i <= 5; i++) yield { ticks: i };
            },
          },
        },
      },
    } as never,
  ]);
  return limits.transformSchema(schema);
}

const user = (userId: string, clientIp = '198.51.100.7'): Identity => ({ kind: 'user', tenantId: 'default', requestId: 'r', userId, roles: ['USER'], sessionId: 's', clientIp }) as Identity;
const service: Identity = { kind: 'service', tenantId: 'default', requestId: 'r', service: 'conversation' };

async function run(schema: GraphQLSchema, query: string, identity: Identity): Promise<ExecutionResult> {
  return (await execute({ schema, document: parse(query), contextValue: { identity, tenantId: identity.tenantId } })) as ExecutionResult;
}

const codeOf = (result: ExecutionResult) => result.errors?.[0]?.extensions?.code;

describe('@rateLimit from server-kit', () => {
  it('counts each user on each field apart, with RATE_LIMITED and retryAfterSeconds past the limit', async () => {
    const schema = build();
    for (let i = 0; i < 3; i++) expect((await run(schema, 'mutation { write }', user('alice'))).errors).toBeUndefined();
    const limited = await run(schema, 'mutation { write }', user('alice'));
    expect(codeOf(limited)).toBe('RATE_LIMITED');
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(500);
    // Another user from the same IP, and another field, have counters of their own.
    expect((await run(schema, 'mutation { write }', user('bob'))).errors).toBeUndefined();
    expect((await run(schema, 'mutation { strict }', user('alice'))).errors).toBeUndefined();
    expect(codeOf(await run(schema, 'mutation { strict }', user('alice')))).toBe('RATE_LIMITED');
  });

  it('never counts our own services', async () => {
    const schema = build();
    for (let i = 0; i < 5; i++) expect((await run(schema, 'mutation { strict }', service)).errors).toBeUndefined();
  });

  it('counts per client IP when asked to', async () => {
    const schema = build('', 'client-ip');
    expect((await run(schema, 'mutation { strict }', user('alice'))).errors).toBeUndefined();
    expect(codeOf(await run(schema, 'mutation { strict }', user('bob')))).toBe('RATE_LIMITED');
    expect((await run(schema, 'mutation { strict }', user('bob', '198.51.100.8'))).errors).toBeUndefined();
  });

  it('takes overrides per field and per type', async () => {
    const schema = build('Mutation=1/600,Mutation.strict=2/600');
    expect((await run(schema, 'mutation { write }', user('carol'))).errors).toBeUndefined();
    expect(codeOf(await run(schema, 'mutation { write }', user('carol')))).toBe('RATE_LIMITED');
    for (let i = 0; i < 2; i++) expect((await run(schema, 'mutation { strict }', user('carol'))).errors).toBeUndefined();
    expect(codeOf(await run(schema, 'mutation { strict }', user('carol')))).toBe('RATE_LIMITED');
    const limits = createRateLimits('sdl', { redis, per: 'caller', overrides: 'Mutation.write=7/30' });
    expect(print(limits.typeDefs(parse(sdl)))).toContain('write: Int @rateLimit(limit: 7, duration: 30)');
    expect(() => createRateLimits('sdl', { redis, per: 'caller', overrides: 'write=5' })).toThrow(/limit\/seconds/);
  });

  it('on a Subscription counts starts, not events', async () => {
    const schema = build();
    const start = async () => subscribe({ schema, document: parse('subscription { ticks }'), contextValue: { identity: user('dave'), tenantId: 'default' } });
    for (let i = 0; i < 2; i++) {
      const stream = await start();
      expect(Symbol.asyncIterator in stream, JSON.stringify(stream)).toBe(true);
      const events = [];
      for await (const event of stream as AsyncIterable<ExecutionResult>) events.push(event);
      expect(events.map((e) => e.data?.ticks)).toEqual([1, 2, 3, 4, 5]);
    }
    const third = (await start()) as ExecutionResult;
    expect(codeOf(third)).toBe('RATE_LIMITED');
  });
});
