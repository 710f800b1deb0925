import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIAL_HEADER, createCredentialSigner, type Identity } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import { createSubgraphServer, type SubgraphServer } from '../server.ts';

const secret = randomBytes(32).toString('hex');
const sign = createCredentialSigner({ secret, issuer: 'gateway' });
const caller: Identity = { kind: 'anonymous', tenantId: 'default', requestId: 'environment-test' };
const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query {
    "A greeting."
    hello: String
    "Fails with an internal error."
    broken: String
  }
`;

let server: SubgraphServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(environment: { NODE_ENV: 'development' | 'test' | 'production'; OPS_PORT?: number }) {
  server = await createSubgraphServer({
    name: 'environment-test',
    typeDefs,
    resolvers: {
      Query: {
        hello: () => 'hi',
        broken: () => {
          throw new Error('secret internal detail');
        },
      },
    } as never,
    internalTokenSecret: secret,
    logger: createLogger({ service: 'environment-test', level: 'silent' }),
    environment,
    createContext: (base) => base,
  });
  return server.listen(0);
}

async function ask(url: string, query: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: await sign(caller) }, body: JSON.stringify({ query }) });
  return (await response.json()) as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

describe('a subgraph in production', () => {
  it('refuses introspection but still serves federation’s _service SDL, and never sends error details', async () => {
    const url = await start({ NODE_ENV: 'production' });
    const introspection = await ask(url, '{ __schema { queryType { name } } }');
    expect(introspection.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await ask(url, '{ _service { sdl } }')).data?._service.sdl).toContain('hello: String');
    expect(JSON.stringify(await ask(url, '{ broken }'))).not.toContain('secret internal detail');
  });

  it('outside production answers introspection', async () => {
    const url = await start({ NODE_ENV: 'test' });
    expect((await ask(url, '{ __schema { queryType { name } } }')).data?.__schema.queryType.name).toBe('Query');
  });

  it('with OPS_PORT serves /readyz and /metrics there only', async () => {
    const url = await start({ NODE_ENV: 'test', OPS_PORT: 0 });
    const origin = new URL(url).origin;
    const ops = server!.opsOrigin()!;
    expect((await fetch(`${origin}/metrics`)).status).toBe(404);
    expect((await fetch(`${origin}/readyz`)).status).toBe(404);
    expect((await fetch(`${ops}/metrics`)).status).toBe(200);
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  });
});
