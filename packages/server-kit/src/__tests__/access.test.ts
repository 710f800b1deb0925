import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { applyAccessPolicies, sharedPolicies } from '../access.ts';

const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])
  type Note @key(fields: "id") @policy(policies: [["owner"]]) {
    id: ID!
    text: String!
    secret: String @requiresScopes(scopes: [["admin"]])
  }
  type Query {
    publicHello: String @policy(policies: [["public"]])
    myNotes: [Note!]! @authenticated
    adminOnly: String @requiresScopes(scopes: [["admin"]])
    internal: String @requiresScopes(scopes: [["service"]])
  }
`);

const notes = [
  { id: 'n1', userId: 'alice', text: 'hello', secret: 's1' },
  { id: 'n2', userId: 'bob', text: 'other', secret: 's2' },
];

function schema(): GraphQLSchema {
  return applyAccessPolicies(
    buildSubgraphSchema([{ typeDefs, resolvers: { Query: { publicHello: () => 'hi', myNotes: () => notes, adminOnly: () => 'ok', internal: () => 'ok' } } as never }]),
    { policies: sharedPolicies },
  );
}

const anonymous: Identity = { kind: 'anonymous', tenantId: 'default', requestId: 'r' };
const alice: Identity = { kind: 'user', tenantId: 'default', requestId: 'r', userId: 'alice', roles: ['USER'], sessionId: 's' };
const admin: Identity = { ...alice, userId: 'root', roles: ['USER', 'ADMIN'] } as Identity;
const service: Identity = { kind: 'service', tenantId: 'default', requestId: 'r', service: 'conversation' };

async function run(query: string, identity: Identity) {
  return execute({ schema: schema(), document: parse(query), contextValue: { identity } });
}

describe('access declared on the SDL', () => {
  it('lets anyone read public fields', async () => {
    expect((await run('{ publicHello }', anonymous)).data).toEqual({ publicHello: 'hi' });
  });

  it('refuses @authenticated fields to anonymous callers with UNAUTHENTICATED', async () => {
    const result = await run('{ myNotes { id } }', anonymous);
    expect(result.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses admin scopes to a USER with FORBIDDEN and lets an ADMIN through', async () => {
    expect((await run('{ adminOnly }', alice)).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await run('{ adminOnly }', admin)).data).toEqual({ adminOnly: 'ok' });
  });

  it('keeps service-only fields to service credentials', async () => {
    expect((await run('{ internal }', admin)).errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect((await run('{ internal }', service)).data).toEqual({ internal: 'ok' });
  });

  it("applies a type's owner policy to each object: another user's non-null field is refused", async () => {
    const result = await run('{ myNotes { id text } }', alice);
    expect(result.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect(result.errors?.[0]?.path).toEqual(['myNotes', 1, 'id']);
  });

  it('resolves a nullable field to null when its own rule refuses', async () => {
    const result = await run('{ myNotes { secret } }', alice);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ myNotes: [{ secret: null }, { secret: null }] });
    const adminView = await run('{ myNotes { secret } }', admin);
    expect(adminView.data).toEqual({ myNotes: [{ secret: 's1' }, { secret: 's2' }] });
  });

  it('fails the boot on a policy name without an implementation', () => {
    const bad = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@policy"])
      type Query { x: String @policy(policies: [["ownr"]]) }`);
    expect(() => applyAccessPolicies(buildSubgraphSchema([{ typeDefs: bad }]), { policies: sharedPolicies })).toThrow(/"ownr"/);
  });

  it('fails the boot on a scope name it does not enforce, and lets any signed-in user hold `user`', async () => {
    const bad = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@requiresScopes"])
      type Query { x: String @requiresScopes(scopes: [["root"]]) }`);
    expect(() => applyAccessPolicies(buildSubgraphSchema([{ typeDefs: bad }]))).toThrow(/"root"/);
    const members = applyAccessPolicies(
      buildSubgraphSchema([
        {
          typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@requiresScopes"])
            type Query { x: String @requiresScopes(scopes: [["user"]]) }`),
          resolvers: { Query: { x: () => 'in' } },
        },
      ]),
    );
    const ask = (identity: Identity) => execute({ schema: members, document: parse('{ x }'), contextValue: { identity } });
    expect((await ask(alice)).data).toEqual({ x: 'in' });
    expect((await ask(anonymous)).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});
