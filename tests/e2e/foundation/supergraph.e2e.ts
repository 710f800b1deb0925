import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSigner } from '@firefly/auth';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { ensureTenant } from '../../src/tenants.ts';

let sg: Supergraph;
let alice: SeededUser;
let bob: SeededUser;
let mallory: SeededUser;

beforeAll(async () => {
  sg = await startSupergraph();
  alice = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 20, imageJobs: 3, credits: 250 });
  bob = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 2, imageJobs: 1, credits: 10 });
  await ensureTenant(sg, 'tenant-b', { name: 'Tenant B' });
  mallory = await seedUserWithHistory(sg.db, { tenantId: 'tenant-b', conversations: 1, imageJobs: 1, credits: 5 });
});

afterAll(async () => {
  await sg?.stop();
});

const CROSS_SUBGRAPH_QUERY = /* GraphQL */ `
  query Dashboard($first: Int!) {
    me {
      id
      displayName
      email
      phone
      roles
      status
      creditBalance { available reserved }
      imageJobs(first: 10) { edges { node { id prompt size count status progress images { id url width height contentType } owner { id } } } pageInfo { hasNextPage endCursor } }
      conversations(first: $first) {
        edges {
          cursor
          node {
            id
            title
            model { id name maxInputTokens }
            parameters { temperature enableSearch }
            lastMessage { role content status }
            owner { id displayName creditBalance { available } imageJobs(first: 1) { edges { node { id } } } }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
    chatModels { id name }
    imageModels { id sizes maxCount }
    products { id name credits priceFen active }
  }
`;

describe('the supergraph through the gateway', () => {
  it('answers a query that crosses all four subgraphs, field by field', async () => {
    const token = await sg.tokenFor(alice.user);
    const { status, body } = await sg.request(CROSS_SUBGRAPH_QUERY, { token, variables: { first: 20 } });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const me = body.data!.me;
    expect(me).toMatchObject({
      id: alice.user.id,
      displayName: alice.user.displayName,
      email: alice.user.email,
      phone: alice.user.phone,
      roles: ['USER'],
      status: 'ACTIVE',
      creditBalance: { available: 250, reserved: 0 },
    });
    expect(me.imageJobs.edges.map((e: any) => e.node.id)).toEqual([...alice.imageJobIds].reverse());
    const firstJob = me.imageJobs.edges.at(-1).node;
    expect(firstJob).toMatchObject({ prompt: 'a firefly over a lotus pond 0', size: '1024*1024', count: 1, status: 'SUCCEEDED', progress: 1, owner: { id: alice.user.id } });
    expect(firstJob.images).toEqual([
      { id: expect.any(String), url: expect.stringMatching(/\/default\/.+\/0\.png\?.*Signature=/), width: 1024, height: 1024, contentType: 'image/png' },
    ]);

    const edges = me.conversations.edges;
    expect(edges).toHaveLength(20);
    expect(me.conversations.pageInfo).toEqual({ hasNextPage: false, endCursor: edges[19].cursor });
    expect(edges.map((e: any) => e.node.id)).toEqual([...alice.conversationIds].reverse());
    for (const { node } of edges) {
      expect(node.model).toEqual({ id: 'qwen-plus', name: expect.any(String), maxInputTokens: expect.any(Number) });
      expect(node.parameters).toEqual({ temperature: 0.7, enableSearch: false });
      expect(node.lastMessage).toEqual({ role: 'ASSISTANT', content: `answer to question in ${node.title}`, status: 'COMPLETED' });
      expect(node.owner).toEqual({
        id: alice.user.id,
        displayName: alice.user.displayName,
        creditBalance: { available: 250 },
        imageJobs: { edges: [{ node: { id: alice.imageJobIds.at(-1) } }] },
      });
    }
    expect(body.data!.chatModels.map((m: any) => m.id)).toEqual(expect.arrayContaining(['qwen-turbo', 'qwen-plus', 'qwen-max']));
    expect(body.data!.imageModels.length).toBeGreaterThan(0);
    for (const model of body.data!.imageModels) expect(model.sizes).toContain('1024*1024');
    expect(body.data!.products.length).toBeGreaterThan(0);
    for (const product of body.data!.products) {
      expect(Number.isInteger(product.priceFen) && product.priceFen > 0).toBe(true);
      expect(Number.isInteger(product.credits) && product.credits > 0).toBe(true);
    }
  });

  it('pages conversations with cursors', async () => {
    const token = await sg.tokenFor(alice.user);
    const query = `query($after: String) { conversations(first: 8, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const { body } = await sg.request(query, { token, variables: { after } });
      expect(body.errors).toBeUndefined();
      seen.push(...body.data!.conversations.edges.map((e: any) => e.node.id));
      after = body.data!.conversations.pageInfo.endCursor;
      expect(body.data!.conversations.pageInfo.hasNextPage).toBe(page < 2);
    }
    expect(seen).toEqual([...alice.conversationIds].reverse());
  });

  it('batches entity and child lookups: SQL count does not grow with the number of conversations', async () => {
    const token = await sg.tokenFor(alice.user);
    const query = `query($first: Int!) { conversations(first: $first) { edges { node { id title model { name } lastMessage { content } owner { displayName creditBalance { available } } } } } }`;
    const count = async (first: number) => {
      sg.resetQueryLog();
      const { body } = await sg.request(query, { token, variables: { first } });
      expect(body.errors).toBeUndefined();
      expect(body.data!.conversations.edges).toHaveLength(first);
      return sg.queries.length;
    };
    const few = await count(2);
    const many = await count(20);
    expect(few).toBeGreaterThan(0);
    expect(many).toBe(few);
  });

  it('an anonymous request sees public data and a null me', async () => {
    const { body } = await sg.request(`{ me { id } chatModels { id } products { id } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data!.me).toBeNull();
    expect(body.data!.chatModels.length).toBeGreaterThan(0);
  });

  it('refuses private data to anonymous callers with UNAUTHENTICATED', async () => {
    const { body } = await sg.request(`{ conversations { edges { node { id } } } }`);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an invalid bearer token instead of treating it as anonymous', async () => {
    const { body } = await sg.request(`{ me { id } }`, { token: 'not-a-jwt' });
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("hides another user's conversation and job by id, as if missing", async () => {
    const token = await sg.tokenFor(alice.user);
    const { body } = await sg.request(`query($c: ID!, $j: ID!) { conversation(id: $c) { id } imageJob(id: $j) { id } }`, {
      token,
      variables: { c: bob.conversationIds[0], j: bob.imageJobIds[0] },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ conversation: null, imageJob: null });
  });
});

describe('tenant isolation', () => {
  it("keeps tenant B's rows invisible to a tenant-A user, even by id", async () => {
    const token = await sg.tokenFor(alice.user);
    const { body } = await sg.request(`query($c: ID!, $j: ID!) { conversation(id: $c) { id } imageJob(id: $j) { id } }`, {
      token,
      variables: { c: mallory.conversationIds[0], j: mallory.imageJobIds[0] },
    });
    expect(body.data).toEqual({ conversation: null, imageJob: null });
  });

  it('serves a tenant-B user only under tenant B', async () => {
    const token = await sg.tokenFor(mallory.user);
    const own = await sg.request(`{ me { id } conversations { edges { node { id } } } }`, { token, headers: { 'x-tenant-id': 'tenant-b' } });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data!.me.id).toBe(mallory.user.id);
    expect(own.body.data!.conversations.edges.map((e: any) => e.node.id)).toEqual(mallory.conversationIds);
    const elsewhere = await sg.request(`{ me { id } }`, { token });
    expect(elsewhere.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('subgraphs trust only the gateway', () => {
  const probe = JSON.stringify({ query: '{ conversations { edges { node { id title } } } }' });

  it('refuses a request without a gateway credential, whatever identity headers it forges', async () => {
    for (const url of Object.values(sg.subgraphUrls)) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': alice.user.id, 'x-tenant-id': 'default', 'x-roles': 'ADMIN' },
        body: probe,
      });
      expect(response.status).toBe(401);
      const body = (await response.json()) as any;
      expect(body.data).toBeUndefined();
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses a credential signed with any other secret', async () => {
    const forge = createCredentialSigner({ secret: 'x'.repeat(64), issuer: 'gateway' });
    const forged = await forge({ kind: 'user', tenantId: 'default', requestId: randomUUID(), userId: alice.user.id, roles: ['ADMIN'], sessionId: 's' });
    for (const url of Object.values(sg.subgraphUrls)) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-firefly-credential': forged }, body: probe });
      expect(response.status).toBe(401);
    }
  });

  it('accepts the real credential (the control for the two tests above)', async () => {
    const sign = createCredentialSigner({ secret: sg.internalTokenSecret, issuer: 'gateway' });
    const credential = await sign({ kind: 'user', tenantId: 'default', requestId: randomUUID(), userId: alice.user.id, roles: ['USER'], sessionId: 's' });
    const response = await fetch(sg.subgraphUrls.conversation, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-firefly-credential': credential },
      body: probe,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.data.conversations.edges).toHaveLength(20);
  });

  it('serves health, readiness and metrics on every process', async () => {
    for (const url of [...Object.values(sg.subgraphUrls), sg.gatewayUrl]) {
      expect((await fetch(new URL('/healthz', url))).status).toBe(200);
      expect((await fetch(new URL('/readyz', url))).status).toBe(200);
      const metrics = await fetch(new URL('/metrics', url));
      expect(await metrics.text()).toContain('http_request_duration_seconds');
    }
  });
});

describe('edge limits of the gateway', () => {
  it('refuses documents deeper than 15 levels, before any subgraph is called', async () => {
    const nest = (levels: number) => {
      let selection = 'id';
      for (let i = 0; i < levels; i++) selection = `conversations(first: 2) { edges { node { owner { ${selection} } } } }`;
      return `{ me { ${selection} } }`;
    };
    const token = await sg.tokenFor(alice.user);
    // me + 3 × (conversations, edges, node, owner) + id = 14 levels: allowed.
    const shallow = await sg.request(nest(3), { token });
    expect(shallow.body.errors).toBeUndefined();
    sg.resetQueryLog();
    // me + 4 × 4 + id = 18 levels: refused at validation.
    const deep = await sg.request(nest(4), { token });
    expect(deep.body.errors?.[0]?.message).toMatch(/too deep/);
    expect(deep.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(sg.queries).toHaveLength(0);
  });

  it('refuses bodies over 1 MB', async () => {
    const response = await fetch(sg.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } }`, variables: { pad: 'x'.repeat(1_100_000) } }),
    });
    expect(response.status).toBe(413);
  });
});
