// The gateway's shared response cache, with two gateway replicas and the subgraphs each in their own process:
// a public answer cached by one replica is served by the other from Redis, a catalog change invalidates it at once,
// and nothing a signed-in user receives is ever cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpCatalogVersion } from '@firefly/redis';
import { seedUserWithHistory, type SeededUser } from '../../src/fixtures.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';
import { eventually } from '../../src/subscription-processes.ts';

const A = 0;
const B = 1;
const PRODUCTS = 'query Products { products { id name priceFen } }';
let stack: Stack;
let alice: SeededUser;
let productId: string;

beforeAll(async () => {
  stack = await startStack({ services: ['billing', 'user', 'conversation'], gateways: 2 });
  alice = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 5 });
  // A product of this file's own: renaming a seeded one would show through to other test files sharing the run's database.
  productId = `prod_cache_e2e_${Date.now().toString(36)}`;
  await stack.db.product.create({ data: { id: productId, tenantId: 'default', name: 'Starter pack', credits: 100, priceFen: 600, active: true, sortOrder: 900 } });
}, 120_000);
afterAll(() => stack?.stop());

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(gateway: number, query: string, options: { token?: string; variables?: Record<string, unknown> } = {}): Promise<Answer> {
  const response = await fetch(stack.httpUrl(gateway), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

/** The cache is written after the answer is sent: wait until `gateway` itself answers `query` from it. */
const stored = (gateway: number, query: string) => eventually(async () => (await post(gateway, query)).headers.get('age') !== null, `${query} in the cache`, 10_000, 50);

const nameIn = (answer: Answer) => (answer.body.data!.products as Array<{ id: string; name: string }>).find((p) => p.id === productId)?.name;

/** Renames the product in the database only, behind every cache's back: an answer with the old name came from a cache. */
const renameBehindTheCache = (name: string) => stack.db.product.update({ where: { id: productId }, data: { name } });

describe('public answers', () => {
  it('are cached by one replica and served by the other from Redis, until the catalog changes', async () => {
    await renameBehindTheCache('Starter pack');
    const first = await post(A, PRODUCTS);
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('cache-control')).toBe('max-age=60, public');
    expect(first.headers.get('age')).toBeNull();
    expect(nameIn(first)).toBe('Starter pack');
    await stored(A, PRODUCTS);

    await renameBehindTheCache('Renamed behind the cache');
    const fromCache = await post(B, PRODUCTS);
    expect(fromCache.headers.get('age')).not.toBeNull();
    expect(fromCache.headers.get('cache-control')).toBe('max-age=60, public');
    expect(nameIn(fromCache)).toBe('Starter pack');
    expect(fromCache.body).toEqual(first.body);

    // A catalog change (what a subgraph does after an ADMIN changed a product) makes every replica miss the old entry.
    await bumpCatalogVersion(stack.redis);
    const fresh = await post(B, PRODUCTS);
    expect(fresh.headers.get('age')).toBeNull();
    expect(nameIn(fresh)).toBe('Renamed behind the cache');
    expect(nameIn(await post(A, PRODUCTS))).toBe('Renamed behind the cache');
  });

  it('the chat model catalog alike', async () => {
    const query = 'query Catalog { chatModels { id name } }';
    const first = await post(A, query);
    expect(first.headers.get('cache-control')).toBe('max-age=60, public');
    await stored(A, query);
    const second = await post(B, query);
    expect(second.headers.get('age')).not.toBeNull();
    expect(second.body).toEqual(first.body);
  });
});

describe('personal answers', () => {
  it('a signed-in me is never cached, and says so', async () => {
    const { token } = await stack.tokenFor(alice.user);
    const query = 'query Me { me { id displayName creditBalance { available } } products { id } }';
    await stack.db.user.update({ where: { id: alice.user.id }, data: { displayName: 'Alice one' } });
    const first = await post(A, query, { token });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.me.displayName).toBe('Alice one');
    expect(first.headers.get('cache-control')).toMatch(/^(no-store|max-age=\d+, private)$/);

    await stack.db.user.update({ where: { id: alice.user.id }, data: { displayName: 'Alice two' } });
    for (const gateway of [A, B]) {
      const again = await post(gateway, query, { token });
      expect(again.headers.get('age')).toBeNull();
      expect(again.body.data!.me.displayName).toBe('Alice two');
    }
  });

  it('a signed-in caller asking only for public data gets a private answer, never stored for others', async () => {
    const { token } = await stack.tokenFor(alice.user);
    const query = 'query SignedInProducts { products { id name } }';
    const entries = async () => (await stack.redis.keys(`${stack.env.REDIS_KEY_PREFIX}response-cache:*`)).length;
    const before = await entries();
    const signedIn = await post(A, query, { token });
    expect(signedIn.headers.get('cache-control')).toBe('max-age=60, private');
    // Nothing was stored (writes happen just after the answer: give one the time it would take).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await entries()).toBe(before);
    expect(before).toBeGreaterThan(0); // the earlier tests' anonymous answers are there: the count is not vacuous
    const anonymous = await post(B, query);
    expect(anonymous.headers.get('age')).toBeNull();
    expect(anonymous.headers.get('cache-control')).toBe('max-age=60, public');
  });

  it('an anonymous me (null) is not cacheable: no hint, no caching', async () => {
    const query = 'query AnonymousMe { me { id } }';
    const first = await post(A, query);
    expect(first.body.data!.me).toBeNull();
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect((await post(B, query)).headers.get('age')).toBeNull();
  });

  it('every answer carries cache-control, refusals and errors included', async () => {
    const invalid = await post(A, '{ nope }');
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('cache-control')).toBe('no-store');
    const tooLarge = await fetch(stack.httpUrl(A), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename }`, pad: 'x'.repeat(1_100_000) }) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('cache-control')).toBe('no-store');
  });
});

describe('an ADMIN changing the catalog (upsertProduct)', () => {
  const UPSERT = 'mutation Upsert($input: ProductInput!) { upsertProduct(input: $input) { id name credits priceFen active } }';

  it('shows at once on every replica, through the cache', async () => {
    const admin = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const { token } = await stack.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
    const row = (await stack.db.product.findUnique({ where: { id: productId } }))!;

    await post(A, PRODUCTS);
    await stored(A, PRODUCTS);
    const cached = await post(B, PRODUCTS);
    expect(cached.headers.get('age')).not.toBeNull();

    const renamed = await post(A, UPSERT, { token, variables: { input: { id: productId, name: 'Renamed by an admin', credits: row.credits, priceFen: row.priceFen } } });
    expect(renamed.body.errors).toBeUndefined();
    expect(renamed.body.data!.upsertProduct).toMatchObject({ id: productId, name: 'Renamed by an admin', active: true });
    const afterRename = await post(B, PRODUCTS);
    expect(afterRename.headers.get('age')).toBeNull();
    expect(nameIn(afterRename)).toBe('Renamed by an admin');

    // Inactive: gone from products on both replicas (both had it cached).
    await stored(A, PRODUCTS);
    await post(A, UPSERT, { token, variables: { input: { id: productId, name: 'Renamed by an admin', credits: row.credits, priceFen: row.priceFen, active: false } } });
    for (const gateway of [A, B]) expect(nameIn(await post(gateway, PRODUCTS))).toBeUndefined();

    // A new one is listed at once.
    const created = await post(B, UPSERT, { token, variables: { input: { name: 'Festival pack', credits: 888, priceFen: 8800 } } });
    const newId = created.body.data!.upsertProduct.id as string;
    const listed = await post(A, PRODUCTS);
    expect(listed.body.data!.products).toContainEqual({ id: newId, name: 'Festival pack', priceFen: 8800 });

    // Back on sale for the other tests.
    await post(A, UPSERT, { token, variables: { input: { id: productId, name: row.name, credits: row.credits, priceFen: row.priceFen, active: true } } });
  });

  it('refuses non-admins, bad input and an unknown product', async () => {
    const { token: userToken } = await stack.tokenFor(alice.user);
    const input = { name: 'Nope', credits: 1, priceFen: 1 };
    expect((await post(A, UPSERT, { token: userToken, variables: { input } })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await post(A, UPSERT, { variables: { input } })).body.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);

    const admin = await seedUserWithHistory(stack.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    const { token } = await stack.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
    const bad = await post(A, UPSERT, { token, variables: { input: { ...input, priceFen: 0 } } });
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'priceFen' });
    const missing = await post(A, UPSERT, { token, variables: { input: { ...input, id: 'no-such-product' } } });
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
