import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { billingScope, expectLedgerInvariant, newTenantId, newUserId } from './helpers.ts';
import { newProduct, orderApi, outTradeNoOf, startPaymentTestbed, type PaymentTestbed } from './payment-helpers.ts';

let bed: PaymentTestbed;
beforeAll(async () => {
  bed = await startPaymentTestbed();
});
afterAll(() => bed.stop());

async function paidOrder(channel: 'ALIPAY' | 'WECHAT', credits = 100, priceFen = 1000) {
  const tenantId = newTenantId();
  const userId = newUserId();
  const product = await newProduct(bed.billing.db, tenantId, { credits, priceFen });
  const buyer = orderApi(bed.billing, tenantId, userId);
  const order = (await buyer.create(product.id, channel)).body.data.createOrder as { id: string };
  await bed.simulator.pay(outTradeNoOf(order.id));
  await expect.poll(async () => (await buyer.get(order.id)).body.data.order.status, { timeout: 10_000 }).toBe('PAID');
  const adminId = newUserId();
  const admin = orderApi(bed.billing, tenantId, adminId, ['USER', 'ADMIN']);
  return { tenantId, userId, buyer, admin, adminId, id: order.id };
}

const REFUND = `mutation($id: ID!, $amount: Int, $reason: String!) { refundOrder(id: $id, amountFen: $amount, reason: $reason) { id status amountFen } }`;
const refund = (api: ReturnType<typeof orderApi>, id: string, amount: number | null, reason = 'customer asked') => api.raw(REFUND, { id, amount, reason });

async function creditsOf(tenantId: string, userId: string) {
  const account = await bed.billing.db.creditAccount.findUnique({ where: { tenantId_userId: { tenantId, userId } } });
  const refunds = await bed.billing.db.ledgerEntry.findMany({ where: { tenantId, userId, reason: 'REFUND' }, orderBy: { createdAt: 'asc' } });
  return { available: account?.available ?? 0, refunds: refunds.map((r) => r.delta) };
}

describe('refundOrder', () => {
  it.each(['ALIPAY', 'WECHAT'] as const)('%s: a full refund makes the order REFUNDED, takes the credits back and refunds at the provider', async (channel) => {
    const { tenantId, userId, admin, adminId, id } = await paidOrder(channel);
    const { body } = await refund(admin, id, null);
    expect(body.errors).toBeUndefined();
    expect(body.data.refundOrder.status).toBe('REFUNDED');
    expect(await creditsOf(tenantId, userId)).toEqual({ available: 0, refunds: [-100] });
    expect(bed.simulator.trade(outTradeNoOf(id))?.refundedFen).toBe(1000);
    await expectLedgerInvariant(bed.billing.db, tenantId, userId);
    // The refund is in the audit log: who, which order, how much and why.
    const audit = await bed.billing.db.auditEvent.findMany({ where: { tenantId, action: 'refundOrder' } });
    expect(audit.map((e) => [e.actor, e.targetType, e.targetId])).toEqual([[adminId, 'Order', id]]);
    expect(JSON.parse(audit[0]!.details!)).toMatchObject({ amountFen: 1000, reason: 'customer asked', statusBefore: 'PAID' });
  });

  it('partial refunds: PARTIALLY_REFUNDED, then never above what is left; the last one makes it REFUNDED', async () => {
    const { tenantId, userId, admin, id } = await paidOrder('WECHAT');
    expect((await refund(admin, id, 300)).body.data.refundOrder.status).toBe('PARTIALLY_REFUNDED');
    const tooMuch = await refund(admin, id, 701);
    expect(tooMuch.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await refund(admin, id, 700)).body.data.refundOrder.status).toBe('REFUNDED');
    expect(await creditsOf(tenantId, userId)).toEqual({ available: 0, refunds: [-30, -70] });
    expect(bed.simulator.trade(outTradeNoOf(id))?.refundedFen).toBe(1000);
    const again = await refund(admin, id, null);
    expect(again.body.errors[0].extensions.code).toBe('CONFLICT');
  });

  it('an over-large amount is refused and changes nothing', async () => {
    const { tenantId, userId, admin, buyer, id } = await paidOrder('ALIPAY');
    for (const amount of [1001, 0, -5]) expect((await refund(admin, id, amount)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await buyer.get(id)).body.data.order.status).toBe('PAID');
    expect(await creditsOf(tenantId, userId)).toEqual({ available: 100, refunds: [] });
    expect(bed.simulator.trade(outTradeNoOf(id))?.refundedFen).toBe(0);
  });

  it('a non-admin, even the buyer, cannot refund', async () => {
    const { buyer, id, tenantId, userId } = await paidOrder('ALIPAY');
    const { body } = await refund(buyer, id, null);
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await creditsOf(tenantId, userId)).toEqual({ available: 100, refunds: [] });
    expect(await bed.billing.db.auditEvent.count({ where: { tenantId, action: 'refundOrder' } })).toBe(0);
  });

  it('credits already spent are not taken back: the balance stays at zero and the ledger note says so', async () => {
    const { tenantId, userId, admin, id } = await paidOrder('ALIPAY');
    await adjustCredits(billingScope(bed.billing.db), { tenantId, userId, delta: -80, note: 'spent', adminUserId: 'test' });
    expect((await refund(admin, id, null)).body.data.refundOrder.status).toBe('REFUNDED');
    expect(await creditsOf(tenantId, userId)).toEqual({ available: 0, refunds: [-20] });
    const entry = await bed.billing.db.ledgerEntry.findFirst({ where: { tenantId, userId, reason: 'REFUND' } });
    expect(entry?.note).toMatch(/80 of 100 credits were already spent/);
    await expectLedgerInvariant(bed.billing.db, tenantId, userId);
  });
});

describe('payment records for admins', () => {
  const RECORDS = `query($id: ID!) { order(id: $id) { id status refundedFen owner { id }
    payments { channel providerTradeNo amountFen }
    refunds { outRefundNo amountFen reason status finishedAt } } }`;
  const ADMIN_ORDERS = `query($first: Int, $after: String, $status: OrderStatus, $userId: ID) {
    adminOrders(first: $first, after: $after, status: $status, userId: $userId) { edges { node { id status owner { id } } } pageInfo { hasNextPage endCursor } } }`;

  it('an ADMIN reads an order\'s provider transaction and its refunds; the buyer may not', async () => {
    const { buyer, admin, id } = await paidOrder('WECHAT');
    await refund(admin, id, 400, 'damaged');
    const { body } = await admin.raw(RECORDS, { id });
    expect(body.errors).toBeUndefined();
    const order = body.data.order;
    expect(order).toMatchObject({ id, status: 'PARTIALLY_REFUNDED', refundedFen: 400 });
    expect(order.payments).toEqual([{ channel: 'WECHAT', providerTradeNo: bed.simulator.trade(outTradeNoOf(id))!.tradeNo, amountFen: 1000 }]);
    expect(order.refunds).toEqual([{ outRefundNo: expect.any(String), amountFen: 400, reason: 'damaged', status: 'SUCCEEDED', finishedAt: expect.any(String) }]);
    // The buyer reads the order, but not the payment records.
    const mine = await buyer.raw(RECORDS, { id });
    expect(mine.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await buyer.get(id)).body.data.order.status).toBe('PARTIALLY_REFUNDED');
  });

  it('adminOrders lists every order of the tenant, newest first, by status and by buyer, in pages; no other tenant\'s, and not for a non-admin', async () => {
    const first = await paidOrder('ALIPAY');
    const { tenantId, admin } = first;
    const product = await newProduct(bed.billing.db, tenantId, { credits: 10, priceFen: 100 });
    const otherBuyer = orderApi(bed.billing, tenantId, newUserId());
    const pending = (await otherBuyer.create(product.id, 'ALIPAY')).body.data.createOrder as { id: string };
    const elsewhere = await paidOrder('ALIPAY');

    const list = async (variables: Record<string, unknown>) => {
      const { body } = await admin.raw(ADMIN_ORDERS, variables);
      expect(body.errors).toBeUndefined();
      return body.data.adminOrders as { edges: { node: { id: string; status: string; owner: { id: string } } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    };
    expect((await list({})).edges.map((e) => e.node.id)).toEqual([pending.id, first.id]);
    expect((await list({ status: 'PAID' })).edges.map((e) => e.node.id)).toEqual([first.id]);
    expect((await list({ status: 'PENDING' })).edges.map((e) => e.node.id)).toEqual([pending.id]);
    expect((await list({ userId: first.userId })).edges.map((e) => [e.node.id, e.node.owner.id])).toEqual([[first.id, first.userId]]);
    const page1 = await list({ first: 1 });
    expect([page1.edges.map((e) => e.node.id), page1.pageInfo.hasNextPage]).toEqual([[pending.id], true]);
    const page2 = await list({ first: 1, after: page1.pageInfo.endCursor });
    expect([page2.edges.map((e) => e.node.id), page2.pageInfo.hasNextPage]).toEqual([[first.id], false]);
    expect((await list({})).edges.map((e) => e.node.id)).not.toContain(elsewhere.id);

    const refused = await first.buyer.raw(ADMIN_ORDERS, {});
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await admin.raw(ADMIN_ORDERS, { first: 101 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
