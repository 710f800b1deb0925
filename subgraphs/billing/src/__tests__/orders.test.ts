import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTenantId, newUserId } from './helpers.ts';
import { cashierAction, newProduct, orderApi, purchasesOf, startPaymentTestbed, type PaymentTestbed } from './payment-helpers.ts';

let bed: PaymentTestbed;
beforeAll(async () => {
  bed = await startPaymentTestbed({ ORDER_MAX_OPEN_PER_USER: '3' });
});
afterAll(() => bed.stop());

const outTradeNo = (orderId: string) => orderId.replace(/-/g, '');

describe('createOrder', () => {
  it('Alipay: a PENDING order with the price and credits of the product at that moment, a QR code and a cashier page', async () => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId, { priceFen: 1990, credits: 250 });
    const api = orderApi(bed.billing, tenantId, newUserId());
    const before = Date.now();
    const { body } = await api.create(product.id, 'ALIPAY');
    expect(body.errors).toBeUndefined();
    const order = body.data.createOrder;
    expect(order).toMatchObject({ amountFen: 1990, credits: 250, channel: 'ALIPAY', status: 'PENDING', paidAt: null });
    const expiresAt = Date.parse(order.payment.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000 - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000 + 1_000);
    expect(order.payment.qrCodeUrl).toMatch(new RegExp(`^${bed.simulator.url}/alipay/qr/`));
    expect(order.payment.payUrl).toMatch(new RegExp(`^${bed.simulator.url}/gateway.do\\?`));

    // A later price change does not touch the order.
    await bed.billing.db.product.update({ where: { id: product.id }, data: { priceFen: 2990, credits: 300 } });
    expect((await api.get(order.id)).body.data.order).toMatchObject({ amountFen: 1990, credits: 250 });

    // The page-pay URL is signed well enough for the simulated Alipay to show its cashier for this trade.
    const page = await fetch(order.payment.payUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('¥19.90');
    expect(bed.simulator.trade(outTradeNo(order.id))).toMatchObject({ provider: 'alipay', state: 'WAIT_BUYER_PAY', amountFen: 1990 });
  });

  it('WeChat Pay: a Native code_url, and (against the simulator) a page standing in for scanning it', async () => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId, { priceFen: 600 });
    const { body } = await orderApi(bed.billing, tenantId, newUserId()).create(product.id, 'WECHAT');
    expect(body.errors).toBeUndefined();
    const order = body.data.createOrder;
    expect(order).toMatchObject({ amountFen: 600, channel: 'WECHAT', status: 'PENDING' });
    expect(order.payment.qrCodeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    const page = await fetch(order.payment.payUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('¥6.00');
    expect(bed.simulator.trade(outTradeNo(order.id))).toMatchObject({ provider: 'wechat', state: 'NOTPAY' });
  });

  it('refuses an unknown or withdrawn product with NOT_FOUND, and creates nothing at the provider', async () => {
    const tenantId = newTenantId();
    const withdrawn = await newProduct(bed.billing.db, tenantId, { active: false });
    const api = orderApi(bed.billing, tenantId, newUserId());
    for (const id of [withdrawn.id, 'no-such-product']) {
      const { body } = await api.create(id, 'ALIPAY');
      expect(body.errors[0].extensions.code).toBe('NOT_FOUND');
    }
  });

  it("another tenant's product is unknown", async () => {
    const product = await newProduct(bed.billing.db, newTenantId());
    const { body } = await orderApi(bed.billing, newTenantId(), newUserId()).create(product.id, 'WECHAT');
    expect(body.errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('limits the unpaid orders of one user (RATE_LIMITED with retryAfterSeconds); a cancelled one frees a place', async () => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId);
    const api = orderApi(bed.billing, tenantId, newUserId());
    const created = await Promise.all([1, 2, 3].map(() => api.create(product.id, 'ALIPAY')));
    for (const r of created) expect(r.body.errors).toBeUndefined();
    const refused = await api.create(product.id, 'WECHAT');
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(800);
    // Someone else is not affected.
    expect((await orderApi(bed.billing, tenantId, newUserId()).create(product.id, 'ALIPAY')).body.errors).toBeUndefined();

    await api.cancel(created[0]!.body.data.createOrder.id);
    expect((await api.create(product.id, 'WECHAT')).body.errors).toBeUndefined();
  });

  it('concurrent creates never leave more open orders than the limit', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const product = await newProduct(bed.billing.db, tenantId);
    const api = orderApi(bed.billing, tenantId, userId);
    const results = await Promise.all(Array.from({ length: 8 }, () => api.create(product.id, 'WECHAT')));
    const ok = results.filter((r) => !r.body.errors);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(3);
    for (const r of results.filter((x) => x.body.errors)) expect(r.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(await bed.billing.db.order.count({ where: { tenantId, userId, status: 'PENDING' } })).toBeLessThanOrEqual(3);
  });

  it('a provider failure answers UPSTREAM_UNAVAILABLE and leaves no open order behind', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const product = await newProduct(bed.billing.db, tenantId);
    bed.simulator.setFaults({ systemError: true });
    try {
      for (const channel of ['ALIPAY', 'WECHAT'] as const) {
        const { body } = await orderApi(bed.billing, tenantId, userId).create(product.id, channel);
        expect(body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      }
    } finally {
      bed.simulator.setFaults({});
    }
    expect(await bed.billing.db.order.count({ where: { tenantId, userId, status: 'PENDING' } })).toBe(0);
  });

  it('needs a signed-in user', async () => {
    const product = await newProduct(bed.billing.db, newTenantId());
    const { body } = await bed.billing.request(`mutation { createOrder(productId: "${product.id}", channel: ALIPAY) { id } }`, {}, { kind: 'anonymous', tenantId: product.tenantId, requestId: 'r' });
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('cancelOrder', () => {
  it.each(['ALIPAY', 'WECHAT'] as const)('%s: closes the trade at the provider, then the order; the cashier can no longer pay it', async (channel) => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId);
    const api = orderApi(bed.billing, tenantId, newUserId());
    const order = (await api.create(product.id, channel)).body.data.createOrder;
    await fetch(order.payment.payUrl); // the buyer opened the cashier (an Alipay trade exists from then on)
    const { body } = await api.cancel(order.id);
    expect(body.errors).toBeUndefined();
    expect(body.data.cancelOrder).toMatchObject({ id: order.id, status: 'CLOSED', payment: null });
    expect(bed.simulator.trade(outTradeNo(order.id))).toMatchObject({ closed: true });
    expect((await cashierAction(order.payment.payUrl, 'pay')).status).toBe(410);
    // Cancelling again returns the closed order.
    expect((await api.cancel(order.id)).body.data.cancelOrder.status).toBe('CLOSED');
  });

  it('an Alipay QR code nobody scanned is closed too: scanning it later cannot pay', async () => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId);
    const api = orderApi(bed.billing, tenantId, newUserId());
    const order = (await api.create(product.id, 'ALIPAY')).body.data.createOrder;
    expect((await api.cancel(order.id)).body.data.cancelOrder.status).toBe('CLOSED');
    expect((await cashierAction(order.payment.qrCodeUrl, 'pay')).status).toBe(410);
  });

  it("someone else's order is NOT_FOUND and stays open; an ADMIN of the tenant may cancel it", async () => {
    const tenantId = newTenantId();
    const product = await newProduct(bed.billing.db, tenantId);
    const order = (await orderApi(bed.billing, tenantId, newUserId()).create(product.id, 'WECHAT')).body.data.createOrder;
    const stranger = await orderApi(bed.billing, tenantId, newUserId()).cancel(order.id);
    expect(stranger.body.errors[0].extensions.code).toBe('NOT_FOUND');
    const otherTenantAdmin = await orderApi(bed.billing, newTenantId(), newUserId(), ['USER', 'ADMIN']).cancel(order.id);
    expect(otherTenantAdmin.body.errors[0].extensions.code).toBe('NOT_FOUND');
    expect(bed.simulator.trade(outTradeNo(order.id))).toMatchObject({ closed: false });
    const admin = await orderApi(bed.billing, tenantId, newUserId(), ['USER', 'ADMIN']).cancel(order.id);
    expect(admin.body.data.cancelOrder.status).toBe('CLOSED');
  });

  it('a trade paid meanwhile is not cancelled: the order is settled from the provider and credited once', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const product = await newProduct(bed.billing.db, tenantId, { credits: 70 });
    const api = orderApi(bed.billing, tenantId, userId);
    const order = (await api.create(product.id, 'WECHAT')).body.data.createOrder;
    bed.simulator.setFaults({ dropNotifications: true });
    try {
      await bed.simulator.pay(outTradeNo(order.id));
    } finally {
      bed.simulator.setFaults({});
    }
    const { body } = await api.cancel(order.id);
    expect(body.errors).toBeUndefined();
    expect(body.data.cancelOrder).toMatchObject({ status: 'PAID', payment: null });
    expect(bed.simulator.trade(outTradeNo(order.id))).toMatchObject({ paid: true, closed: false });
    const { available, entries } = await purchasesOf(bed.billing.db, tenantId, userId, order.id);
    expect(entries.map((e) => e.delta)).toEqual([70]);
    expect(available).toBe(70);
  });
});
