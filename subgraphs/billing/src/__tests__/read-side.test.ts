import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { PRODUCT_IDS, SEED_PRODUCTS } from '@firefly/db/seed';
import { encodeCursor } from '@firefly/server-kit';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { reserveCredits } from '../domain/reserve-credits.ts';
import { billingScope, newTenantId, newUserId, startTestBilling, userIdentity, type TestBilling } from './helpers.ts';

let billing: TestBilling;
let deps: ReturnType<typeof billingScope>;
beforeAll(async () => {
  billing = await startTestBilling();
  deps = billingScope(billing.db);
});
afterAll(() => billing.stop());

const anonymous = (tenantId: string): Identity => ({ kind: 'anonymous', tenantId, requestId: randomUUID() });

const USER_FIELDS = `
  query($representations: [_Any!]!, $first: Int, $after: String) {
    _entities(representations: $representations) {
      ... on User {
        id
        creditBalance { available reserved }
        ledger(first: $first, after: $after) { edges { cursor node { id delta balanceAfter reason referenceId createdAt } } pageInfo { hasNextPage endCursor } }
      }
    }
  }`;

const usersQuery = (ids: string[], identity: Identity, variables: Record<string, unknown> = {}) =>
  billing.request(USER_FIELDS, { representations: ids.map((id) => ({ __typename: 'User', id })), ...variables }, identity);

async function userWithHistory(tenantId: string, deltas: number[]) {
  const userId = newUserId();
  for (const delta of deltas) await adjustCredits(deps, { tenantId, userId, delta, note: `adjust ${delta}`, adminUserId: 'test' });
  return userId;
}

describe('products', () => {
  it('lists the active credit packs of the tenant to anyone, in shop order', async () => {
    const response = await billing.request(`{ products { id name credits priceFen active } }`, {}, anonymous('default'));
    expect(response.body.errors).toBeUndefined();
    const seeded = response.body.data.products.filter((p: { id: string }) => Object.values(PRODUCT_IDS).includes(p.id as never));
    expect(seeded).toEqual(SEED_PRODUCTS.map(({ id, name, credits, priceFen }) => ({ id, name, credits, priceFen, active: true })));
  });

  it("another tenant does not see the default tenant's products", async () => {
    const response = await billing.request(`{ products { id } }`, {}, anonymous(newTenantId()));
    expect(response.body.data.products).toEqual([]);
  });
});

describe('User.creditBalance and User.ledger', () => {
  it('the owner reads their balance and ledger, newest first, paged with cursors', async () => {
    const tenantId = newTenantId();
    const userId = await userWithHistory(tenantId, [100, -10, 5, -20, 7]);
    await reserveCredits(deps, { tenantId, userId, amount: 30, referenceId: 'msg', ttlSeconds: 60, idempotencyKey: randomUUID() });
    const me = userIdentity(tenantId, userId);

    const first = await usersQuery([userId], me, { first: 2 });
    expect(first.body.errors).toBeUndefined();
    const user = first.body.data._entities[0];
    expect(user.creditBalance).toEqual({ available: 52, reserved: 30 });
    expect(user.ledger.edges.map((e: { node: { delta: number; balanceAfter: number } }) => [e.node.delta, e.node.balanceAfter])).toEqual([
      [7, 82],
      [-20, 75],
    ]);
    expect(user.ledger.edges[0].node.reason).toBe('ADJUSTMENT');
    expect(user.ledger.pageInfo.hasNextPage).toBe(true);

    const rest = await usersQuery([userId], me, { first: 10, after: user.ledger.pageInfo.endCursor });
    const page = rest.body.data._entities[0].ledger;
    expect(page.edges.map((e: { node: { delta: number } }) => e.node.delta)).toEqual([5, -10, 100]);
    expect(page.pageInfo).toEqual({ hasNextPage: false, endCursor: page.edges[2].cursor });
  });

  it('a user without an account reads 0 / 0 and an empty ledger', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const response = await usersQuery([userId], userIdentity(tenantId, userId));
    expect(response.body.data._entities[0]).toMatchObject({ creditBalance: { available: 0, reserved: 0 }, ledger: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });
  });

  it("another user's balance and ledger are refused", async () => {
    const tenantId = newTenantId();
    const victim = await userWithHistory(tenantId, [100]);
    const response = await usersQuery([victim], userIdentity(tenantId, newUserId()));
    expect(response.body.data?._entities?.[0] ?? null).toBeNull();
    expect(response.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toContain('FORBIDDEN');
    expect(JSON.stringify(response.body)).not.toContain('"available":100');
  });

  it("a user of another tenant cannot read them either, and another tenant's admin sees nothing of them", async () => {
    const tenantA = newTenantId();
    const victim = await userWithHistory(tenantA, [100, -1]);
    const foreignUser = await usersQuery([victim], userIdentity(newTenantId(), newUserId()));
    expect(foreignUser.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toContain('FORBIDDEN');

    const foreignAdmin = await usersQuery([victim], userIdentity(newTenantId(), newUserId(), ['ADMIN']));
    expect(foreignAdmin.body.errors).toBeUndefined();
    expect(foreignAdmin.body.data._entities[0]).toMatchObject({ creditBalance: { available: 0, reserved: 0 }, ledger: { edges: [] } });

    const ownAdmin = await usersQuery([victim], userIdentity(tenantA, newUserId(), ['ADMIN']));
    expect(ownAdmin.body.data._entities[0].creditBalance).toEqual({ available: 99, reserved: 0 });
  });

  it('anonymous callers are UNAUTHENTICATED', async () => {
    const tenantId = newTenantId();
    const response = await usersQuery([await userWithHistory(tenantId, [5])], anonymous(tenantId));
    expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('balances, ledgers and orders of many users cost one query each, not one per user', async () => {
    const tenantId = newTenantId();
    const userIds = await Promise.all(Array.from({ length: 6 }, (_, i) => userWithHistory(tenantId, [50 + i, -(1 + i), 2])));
    const admin = userIdentity(tenantId, newUserId(), ['ADMIN']);
    billing.queries.length = 0;
    const response = await billing.request(
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User {
        id creditBalance { available } ledger(first: 2) { edges { node { delta } } pageInfo { hasNextPage } } orders(first: 5) { edges { node { id } } }
      } } }`,
      { representations: userIds.map((id) => ({ __typename: 'User', id })) },
      admin,
    );
    expect(response.body.errors).toBeUndefined();
    response.body.data._entities.forEach((user: any, i: number) => {
      expect(user.id).toBe(userIds[i]);
      expect(user.creditBalance.available).toBe(50 + i - (1 + i) + 2);
      expect(user.ledger.edges.map((e: { node: { delta: number } }) => e.node.delta)).toEqual([2, -(1 + i)]);
      expect(user.ledger.pageInfo.hasNextPage).toBe(true);
      expect(user.orders.edges).toEqual([]);
    });
    const statements = billing.queries.map((q) => q.query);
    expect(statements.filter((sql) => sql.includes('FROM `LedgerEntry`'))).toHaveLength(1);
    expect(statements.filter((sql) => sql.includes('FROM `Order`'))).toHaveLength(1);
    expect(statements.filter((sql) => sql.includes('FROM `CreditAccount`'))).toHaveLength(1);
    expect(statements).toHaveLength(3);
  });

  it('the batched page query honours the cursor for every user (DateTime parameters in raw SQL, id tie-break)', async () => {
    const tenantId = newTenantId();
    const [a, b] = [newUserId(), newUserId()];
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 8, 0, second, 123));
    const entries = { [a]: [['a-0', 0], ['a-1', 1], ['a-2', 2]], [b]: [['b-0', 0], ['b-1', 1], ['b-2', 2], ['0-b', 2]] } as const;
    for (const userId of [a, b]) {
      const accountId = randomUUID();
      await billing.db.creditAccount.create({ data: { id: accountId, tenantId, userId, available: entries[userId]!.length } });
      await billing.db.ledgerEntry.createMany({
        data: entries[userId]!.map(([id, second], i) => ({
          id: `${tenantId}-${id}`,
          tenantId,
          accountId,
          userId,
          delta: 1,
          balanceAfter: i + 1,
          reason: 'GRANT' as const,
          idempotencyKey: `k${i}`,
          createdAt: at(second),
        })),
      });
    }
    // Strictly after (t2, "a-2") in newest-first order: older rows, and rows of t2 whose id sorts before "a-2".
    const after = encodeCursor({ createdAt: at(2), id: `${tenantId}-a-2` });
    const response = await usersQuery([a, b], userIdentity(tenantId, newUserId(), ['ADMIN']), { first: 5, after });
    expect(response.body.errors).toBeUndefined();
    const [pageA, pageB] = response.body.data._entities.map((u: any) => u.ledger.edges.map((e: any) => e.node.id.slice(tenantId.length + 1)));
    expect(pageA).toEqual(['a-1', 'a-0']);
    expect(pageB).toEqual(['0-b', 'b-1', 'b-0']);
    expect(response.body.data._entities[0].ledger.edges[0].node.createdAt).toBe(at(1).toISOString());
  });
});

describe('orders', () => {
  async function insertOrder(tenantId: string, userId: string, overrides: { status?: 'PENDING' | 'PAID'; createdAt?: Date } = {}) {
    const id = randomUUID();
    await billing.db.order.create({
      data: {
        id,
        tenantId,
        userId,
        productId: PRODUCT_IDS.CREDITS_550,
        amountFen: 3_000,
        credits: 550,
        channel: 'ALIPAY',
        status: overrides.status ?? 'PENDING',
        outTradeNo: `T${randomUUID().replaceAll('-', '')}`,
        qrCodeUrl: 'https://qr.alipay.com/test',
        expiresAt: new Date(Date.now() + 15 * 60_000),
        paidAt: overrides.status === 'PAID' ? new Date() : null,
        createdAt: overrides.createdAt ?? new Date(),
      },
    });
    return id;
  }
  const ORDER = `query($id: ID!) { order(id: $id) { id amountFen credits channel status paidAt owner { id } product { id credits } payment { qrCodeUrl payUrl expiresAt } } }`;

  it('the owner reads their order with product and payment instruction; anyone else gets null', async () => {
    // Products belong to the default tenant in the seed, so these orders live there too.
    const tenantId = 'default';
    const owner = newUserId();
    const id = await insertOrder(tenantId, owner);
    const own = await billing.request(ORDER, { id }, userIdentity(tenantId, owner));
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data.order).toMatchObject({
      id,
      amountFen: 3_000,
      credits: 550,
      channel: 'ALIPAY',
      status: 'PENDING',
      paidAt: null,
      owner: { id: owner },
      product: { id: PRODUCT_IDS.CREDITS_550, credits: 550 },
      payment: { qrCodeUrl: 'https://qr.alipay.com/test', payUrl: null },
    });
    expect((await billing.request(ORDER, { id }, userIdentity(tenantId, newUserId()))).body.data.order).toBeNull();
    expect((await billing.request(ORDER, { id }, userIdentity(newTenantId(), owner))).body.data.order).toBeNull();
    expect((await billing.request(ORDER, { id }, userIdentity(newTenantId(), newUserId(), ['ADMIN']))).body.data.order).toBeNull();
    expect((await billing.request(ORDER, { id }, userIdentity(tenantId, newUserId(), ['ADMIN']))).body.data.order.id).toBe(id);
    expect((await billing.request(ORDER, { id }, anonymous(tenantId))).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('User.orders is paged newest first; a paid order has no payment instruction', async () => {
    const owner = newUserId();
    const base = Date.now() - 60_000;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await insertOrder('default', owner, { status: i === 0 ? 'PAID' : 'PENDING', createdAt: new Date(base + i * 1_000) }));
    const query = `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on User { orders(first: 2, after: $after) {
      edges { node { id status payment { qrCodeUrl } } } pageInfo { hasNextPage endCursor } } } } }`;
    const me = userIdentity('default', owner);
    const first = await billing.request(query, { r: [{ __typename: 'User', id: owner }] }, me);
    const page1 = first.body.data._entities[0].orders;
    expect(page1.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await billing.request(query, { r: [{ __typename: 'User', id: owner }], after: page1.pageInfo.endCursor }, me);
    const page2 = second.body.data._entities[0].orders;
    expect(page2.edges).toEqual([{ node: { id: ids[0], status: 'PAID', payment: null } }]);
  });

  it('Order entities resolve through the loader for the owner and are null for others', async () => {
    const owner = newUserId();
    const id = await insertOrder('default', owner);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id credits } } }`;
    const representations = [{ __typename: 'Order', id }, { __typename: 'Order', id: 'missing' }];
    expect((await billing.request(query, { r: representations }, userIdentity('default', owner))).body.data._entities).toEqual([{ id, credits: 550 }, null]);
    expect((await billing.request(query, { r: representations }, userIdentity('default', newUserId()))).body.data._entities).toEqual([null, null]);
  });
});

describe('adjustCredits (ADMIN)', () => {
  const ADJUST = `mutation($userId: ID!, $delta: Int!, $note: String!) { adjustCredits(userId: $userId, delta: $delta, note: $note) { available reserved } }`;

  it('is refused to a USER (even for themself) and to anonymous callers', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const asUser = await billing.request(ADJUST, { userId, delta: 1_000, note: 'free money' }, userIdentity(tenantId, userId));
    expect(asUser.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const asAnonymous = await billing.request(ADJUST, { userId, delta: 1_000, note: 'free money' }, anonymous(tenantId));
    expect(asAnonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await billing.db.ledgerEntry.count({ where: { tenantId, userId } })).toBe(0);
  });

  it('an ADMIN adjusts within the tenant; below zero is BAD_USER_INPUT', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const admin = userIdentity(tenantId, newUserId(), ['ADMIN']);
    expect((await billing.request(ADJUST, { userId, delta: 40, note: 'goodwill' }, admin)).body.data.adjustCredits).toEqual({ available: 40, reserved: 0 });
    const refused = await billing.request(ADJUST, { userId, delta: -41, note: 'too much' }, admin);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'delta' });
    const ledger = await usersQuery([userId], userIdentity(tenantId, userId));
    expect(ledger.body.data._entities[0].ledger.edges.map((e: any) => [e.node.delta, e.node.reason])).toEqual([[40, 'ADJUSTMENT']]);
  });
});
