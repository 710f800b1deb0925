import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_HEADER, createCredentialSigner, type Identity } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import { createSubgraphServer, type SubgraphServer } from '../server.ts';

/**
 * A subgraph's GraphQL POSTs are served without Express (graphql-http.ts); everything else still through it. Both
 * paths must answer alike: the credential, Apollo's CSRF prevention and errors, cache-control, the body limits.
 */
const secret = randomBytes(32).toString('hex');
const sign = createCredentialSigner({ secret, issuer: 'gateway' });
const caller: Identity = { kind: 'user', tenantId: 'default', requestId: 'http-test', userId: 'u1', roles: ['USER'], sessionId: 's1' };
const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
  enum CacheControlScope {
    PUBLIC
    PRIVATE
  }
  type Query {
    "Who the credential says is asking."
    whoami: String
    "The same for every caller, cacheable."
    catalog: String @cacheControl(maxAge: 60)
    "Echoes its argument."
    echo(text: String!): String
  }
`;

let server: SubgraphServer;
let url: string;
beforeAll(async () => {
  server = await createSubgraphServer({
    name: 'http-test',
    typeDefs,
    resolvers: {
      Query: {
        whoami: (_: unknown, __: unknown, ctx: { identity: Identity; requestId: string }) => `${ctx.identity.kind}:${ctx.requestId}`,
        catalog: () => 'models',
        echo: (_: unknown, args: { text: string }) => args.text,
      },
    } as never,
    internalTokenSecret: secret,
    logger: createLogger({ service: 'http-test', level: 'silent' }),
    environment: { NODE_ENV: 'test' },
    createContext: (base) => base,
  });
  url = await server.listen(0);
});
afterAll(() => server.stop());

const post = async (body: string, headers: Record<string, string> = {}, path = url) =>
  fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: await sign(caller), ...headers }, body });

describe('GraphQL POSTs to a subgraph', () => {
  it('answers with the context built from the verified credential, and a content-length', async () => {
    const response = await post(JSON.stringify({ query: '{ whoami }' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text)).toEqual({ data: { whoami: 'user:http-test' } });
    // Answered without Express, whose res.send hashes every answer into an ETag.
    expect(response.headers.get('etag')).toBeNull();
  });

  it('passes variables, also with a query string on the URL', async () => {
    const response = await post(JSON.stringify({ query: 'query Q($t: String!) { echo(text: $t) }', variables: { t: 'héllo' } }), {}, `${url}?x=1`);
    expect(await response.json()).toEqual({ data: { echo: 'héllo' } });
  });

  it('keeps Apollo’s cache-control header for cacheable answers and its error codes', async () => {
    const cacheable = await post(JSON.stringify({ query: '{ catalog }' }));
    expect(cacheable.headers.get('cache-control')).toBe('max-age=60, public');
    const invalid = await post(JSON.stringify({ query: '{ nothing }' }));
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const missing = await post('');
    expect(missing.status).toBe(400);
  });

  it('refuses a missing or forged credential with 401 before reading the body', async () => {
    for (const credential of [undefined, 'forged']) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(credential ? { [CREDENTIAL_HEADER]: credential } : {}) },
        body: JSON.stringify({ query: '{ whoami }' }),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ errors: [{ message: 'A valid gateway credential is required', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });

  it('refuses bodies over 1 MB with 413 and bodies that are not JSON objects with 400', async () => {
    const large = await post(JSON.stringify({ query: '{ whoami }', variables: { pad: 'x'.repeat(1_100_000) } }));
    expect(large.status).toBe(413);
    expect((await post('{ not json')).status).toBe(400);
    expect((await post('"a string"')).status).toBe(400);
  });

  it('still serves requests the fast path leaves to Express: GET, other content types', async () => {
    const get = await fetch(`${url}?query=${encodeURIComponent('{ whoami }')}`, { headers: { [CREDENTIAL_HEADER]: await sign(caller), 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { whoami: 'user:http-test' } });
    // Apollo's CSRF prevention: a "simple" request (text/plain) without a preflight header is refused.
    const simple = await post(JSON.stringify({ query: '{ whoami }' }), { 'content-type': 'text/plain' });
    expect(simple.status).toBe(400);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
  });

  it('counts the requests in http_request_duration_seconds under the /graphql route', async () => {
    await post(JSON.stringify({ query: '{ whoami }' }));
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*method="POST"[^}]*route="\/graphql"[^}]*status="200"[^}]*\} [1-9]/);
  });
});
