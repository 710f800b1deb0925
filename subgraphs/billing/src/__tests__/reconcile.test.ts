import { afterAll, beforeAll, expect, it } from 'vitest';
import { newTenantId, newUserId } from './helpers.ts';
import { newProduct, orderApi, outTradeNoOf, purchasesOf, startPaymentTestbed, type PaymentTestbed } from './payment-helpers.ts';

// Reconciliation every second for orders older than a second, and orders that expire after 3 seconds.
let bed: PaymentTestbed;
beforeAll(async () => {
  bed = await startPaymentTestbed({ ORDER_RECONCILE_INTERVAL_SECONDS: '1', ORDER_RECONCILE_AFTER_SECONDS: '1', ORDER_TTL_SECONDS: '3' });
});
afterAll(() => bed.stop());

async function order(channel: 'ALIPAY' | 'WECHAT') {
  const tenantId = newTenantId();
  const userId = newUserId();
  const product = await newProduct(bed.billing.db, tenantId, { credits: 30 });
  const api = orderApi(bed.billing, tenantId, userId);
  const created = (await api.create(product.id, channel)).body.data.createOrder as { id: string; payment: { payUrl: string } };
  return { tenantId, userId, api, id: created.id, payUrl: created.payment.payUrl };
}

const statusOf = async (api: ReturnType<typeof orderApi>, id: string) => (await api.get(id)).body.data.order.status as string;

it.each(['ALIPAY', 'WECHAT'] as const)('%s: a payment whose notification was lost is found by reconciliation and credited once', async (channel) => {
  const { tenantId, userId, api, id } = await order(channel);
  bed.simulator.setFaults({ dropNotifications: true });
  try {
    await bed.simulator.pay(outTradeNoOf(id));
    expect(bed.simulator.notifications().filter((n) => n.outTradeNo === outTradeNoOf(id))).toEqual([]);
    await expect.poll(() => statusOf(api, id), { timeout: 10_000, interval: 200 }).toBe('PAID');
  } finally {
    bed.simulator.setFaults({});
  }
  const { available, entries } = await purchasesOf(bed.billing.db, tenantId, userId, id);
  expect(entries).toHaveLength(1);
  expect(available).toBe(30);
  // A late notification after that changes nothing.
  await bed.simulator.renotify(outTradeNoOf(id));
  expect((await purchasesOf(bed.billing.db, tenantId, userId, id)).entries).toHaveLength(1);
});

it.each(['ALIPAY', 'WECHAT'] as const)('%s: an order nobody paid closes at its expiry, at the provider too', async (channel) => {
  const { api, id, payUrl } = await order(channel);
  await fetch(payUrl); // opened, never paid
  expect(await statusOf(api, id)).toBe('PENDING');
  await expect.poll(() => statusOf(api, id), { timeout: 12_000, interval: 250 }).toBe('CLOSED');
  expect(bed.simulator.trade(outTradeNoOf(id))).toMatchObject({ closed: true, paid: false });
});
