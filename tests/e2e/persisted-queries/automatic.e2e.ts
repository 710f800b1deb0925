// Automatic persisted queries of ordinary clients live in Redis: a hash registered through one gateway replica runs
// by hash on another (separate processes), and the document limits hold for a hash sent alone.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

const A = 0;
const B = 1;
let stack: Stack;
let alice: SeededUser;
let token: string;

beforeAll(async () => {
  stack = await startStack({ services: ['billing', 'user', 'conversation'], gateways: 2 });
  alice = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 3, imageJobs: 0, credits: 5 });
  token = (await stack.tokenFor(alice.user)).token;
}, 120_000);
afterAll(() => stack?.stop());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

interface Answer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(gateway: number, payload: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(stack.httpUrl(gateway), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function get(gateway: number, params: Record<string, unknown>): Promise<Answer> {
  const url = new URL(stack.httpUrl(gateway));
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  // A custom header, as Apollo's CSRF prevention asks of GET requests.
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** A query text no other run or test registered (a comment of its own changes the hash, not the operation). */
const fresh = (text: string) => `# ${randomUUID()}\n${text}`;
const codes = (answer: Answer) => answer.body.errors?.map((e) => e.extensions?.code);

describe('automatic persisted queries across replicas', () => {
  it('a hash registered through one replica runs by hash on the other, by POST and GET', async () => {
    const query = fresh('query Mine($n: Int) { conversations(first: $n) { edges { node { id title } } } }');
    const hash = sha256(query);

    const unknown = await post(A, { extensions: persisted(hash), variables: { n: 2 } });
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(unknown.body.data).toBeUndefined();

    const registered = await post(A, { query, extensions: persisted(hash), variables: { n: 2 } });
    expect(registered.body.errors).toBeUndefined();
    expect(registered.body.data.conversations.edges).toHaveLength(2);

    // Apollo Server writes the cache after answering: the other replica finds it within moments.
    let byHash: Answer | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      byHash = await post(B, { extensions: persisted(hash), variables: { n: 2 } });
      if (!codes(byHash)?.includes('PERSISTED_QUERY_NOT_FOUND')) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(byHash!.body).toEqual(registered.body);

    const byGet = await get(B, { extensions: persisted(hash), variables: { n: 3 } });
    expect(byGet.status).toBe(200);
    expect(byGet.body.data.conversations.edges).toHaveLength(3);
  });

  it('a hash sent alone is held to the cost limit under its own variables', async () => {
    const query = fresh('query Sized($n: Int) { conversations(first: $n) { edges { node { id } } } }');
    const hash = sha256(query);
    expect((await post(A, { query, extensions: persisted(hash), variables: { n: 1 } })).body.errors).toBeUndefined();

    // Admitted when registered with first: 1; with first: 1,000,000 the same text costs far over the limit.
    let tooExpensive: Answer | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      tooExpensive = await post(B, { extensions: persisted(hash), variables: { n: 1_000_000 } });
      if (!codes(tooExpensive)?.includes('PERSISTED_QUERY_NOT_FOUND')) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(tooExpensive!.status).toBe(400);
    expect(codes(tooExpensive!)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(tooExpensive!.body).not.toHaveProperty('data');
  });

  it('a text over a document limit is refused when registered and never stored', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: title`).join(' ');
    const query = fresh(`query Wide { conversations(first: 1) { edges { node { ${aliases} } } } }`);
    const hash = sha256(query);
    const refused = await post(A, { query, extensions: persisted(hash) });
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(codes(await post(B, { extensions: persisted(hash) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('a hash that does not match its text is refused', async () => {
    const answer = await post(A, { query: 'query Q { __typename }', extensions: persisted(sha256('something else')) });
    expect(answer.status).toBe(400);
    expect(answer.body).not.toHaveProperty('data');
  });
});
