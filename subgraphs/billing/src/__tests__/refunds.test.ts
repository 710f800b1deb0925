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
