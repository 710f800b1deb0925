// Catalog reads inside the subgraphs: many aliases of a catalog field in one request cost one SQL query, not one
// per alias. Sent straight to each subgraph (with a gateway credential), past the gateway's document limits, as a
// caller inside the network could.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_HEADER, createCredentialSigner } from '@firefly/auth';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';

const ALIASES = 5_000;
let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph();
});
afterAll(() => sg?.stop());

async function askSubgraph(url: string, query: string) {
  const sign = createCredentialSigner({ secret: sg.internalTokenSecret, issuer: 'gateway' });
  const credential = await sign({ kind: 'anonymous', tenantId: 'default', requestId: randomUUID() });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [CREDENTIAL_HEADER]: credential }, body: JSON.stringify({ query }) });
  return (await response.json()) as { data?: Record<string, unknown[]>; errors?: unknown[] };
}

const cases = [
  { subgraph: 'conversation', field: 'chatModels', table: 'ChatModel' },
  { subgraph: 'image', field: 'imageModels', table: 'ImageModel' },
  { subgraph: 'billing', field: 'products', table: 'Product' },
] as const;

describe(`${ALIASES} aliases of a catalog field`, () => {
  it.each(cases)('$field: one SQL query for the whole request', async ({ subgraph, field, table }) => {
    const query = `{ ${Array.from({ length: ALIASES }, (_, i) => `a${i}: ${field} { id }`).join(' ')} }`;
    sg.resetQueryLog();
    const answer = await askSubgraph(sg.subgraphUrls[subgraph], query);
    expect(answer.errors).toBeUndefined();
    expect(Object.keys(answer.data!)).toHaveLength(ALIASES);
    expect(answer.data!.a0!.length).toBeGreaterThan(0);
    expect(answer.data![`a${ALIASES - 1}`]).toEqual(answer.data!.a0);
    const catalogQueries = sg.queries.filter((event) => event.query.includes(`\`${table}\``));
    expect(catalogQueries).toHaveLength(1);
  }, 60_000);
});
