import { afterAll, beforeAll, expect, it } from 'vitest';
import { PRODUCT_IDS } from '@firefly/db/seed';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { seedUserWithHistory } from '../../src/fixtures.ts';

// A purchase as a client makes it, through the gateway's one public origin: createOrder, the simulator's cashier
// (action=pay), the provider's signed notification arriving at the gateway's /payments/<channel>/notify and
// forwarded to billing, then the order, the balance and the ledger read back through the gateway.

let sg: Supergraph;
beforeAll(async () => {
  sg = await startSupergraph();
});
afterAll(() => sg?.stop());

const ORDER = 'id status amountFen credits paidAt payment { qrCodeUrl payUrl expiresAt }';

it.each(['ALIPAY', 'WECHAT'] as const)('%s: order → cashier pay → PAID, credits and one PURCHASE entry', async (channel) => {
  const buyer = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 10 });
  const token = await sg.tokenFor(buyer.user);
  const created = await sg.request(`mutation($p: ID!, $c: PaymentChannel!) { createOrder(productId: $p, channel: $c) { ${ORDER} } }`, {
    token,
    variables: { p: PRODUCT_IDS.CREDITS_550, c: channel },
  });
  expect(created.body.errors).toBeUndefined();
  const order = created.body.data!.createOrder;
  expect(order).toMatchObject({ status: 'PENDING', amountFen: 3000, credits: 550 });

  const paid = await fetch(order.payment.payUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
  expect(paid.status).toBe(200);

  const read = () => sg.request(`query($id: ID!) { order(id: $id) { ${ORDER} } }`, { token, variables: { id: order.id } });
  await expect.poll(async () => (await read()).body.data?.order?.status, { timeout: 15_000, interval: 200 }).toBe('PAID');
  const me = await sg.request(`{ me { creditBalance { available } ledger(first: 5) { edges { node { delta reason referenceId } } } } }`, { token });
  expect(me.body.data!.me.creditBalance.available).toBe(560);
  const purchases = me.body.data!.me.ledger.edges.map((e: { node: { reason: string } }) => e.node).filter((n: { reason: string }) => n.reason === 'PURCHASE');
  expect(purchases).toEqual([{ delta: 550, reason: 'PURCHASE', referenceId: order.id }]);
  // The provider was answered through the gateway as it expects, and stopped sending.
  const outTradeNo = order.id.replace(/-/g, '');
  await expect.poll(() => sg.payments.notifications().find((n) => n.outTradeNo === outTradeNo)?.acknowledged).toBe(true);
});

it("the gateway forwards a notification's exact bytes and billing's answer: a forged one is refused", async () => {
  const alipay = await fetch(`${sg.gatewayUrl.replace(/\/graphql$/, '')}/payments/alipay/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'out_trade_no=x&trade_status=TRADE_SUCCESS&total_amount=1.00&sign=Zm9v',
  });
  expect(await alipay.text()).toBe('fail');
  const other = await fetch(`${sg.gatewayUrl.replace(/\/graphql$/, '')}/payments/paypal/notify`, { method: 'POST', body: '{}' });
  expect(other.status).toBe(404);
});
