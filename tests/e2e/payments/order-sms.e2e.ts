/**
 * The payment-success SMS, end to end: a buyer registered with their phone (through the real user subgraph and the
 * Dysmsapi double) buys credits through the gateway and pays at the simulator's cashier; billing owes the SMS from
 * the PAID commit (OrderPaidNotice) and asks the user subgraph's service-only `sendOrderPaidSms`, which reads the
 * phone from its own data layer and sends through the real Aliyun client. Duplicated and re-sent notifications, and
 * asking again, never send a second message; a buyer without a phone gets none.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PRODUCT_IDS } from '@firefly/db/seed';
import { callSubgraph } from '../../src/chat-helpers.ts';
import { clientOf, codeOf, expectOk, registerWithEmail, registerWithPhone, startIdentitySupergraph, type IdentitySupergraph } from '../../src/identity-helpers.ts';

let sg: IdentitySupergraph;
beforeAll(async () => {
  // Owed SMS retried quickly here (production: every 10 s, 15 s doubling), and parked after 4 attempts (production: 10).
  sg = await startIdentitySupergraph({ env: { ORDER_SMS_INTERVAL_SECONDS: '1', ORDER_SMS_RETRY_SECONDS: '1', ORDER_SMS_MAX_ATTEMPTS: '4' } });
}, 120_000);
afterAll(() => sg?.stop());

const ORDER = 'id status amountFen credits payment { payUrl }';
const orderPaidMessages = () => sg.sms.messages().filter((m) => m.templateCode === sg.sms.orderPaidTemplateCode);

/** createOrder through the gateway, the cashier's "pay", and the order read back PAID. */
async function buyAndPay(token: string, channel: 'ALIPAY' | 'WECHAT') {
  const client = clientOf(sg);
  const order = expectOk(await client.call(`mutation($p: ID!, $c: PaymentChannel!) { createOrder(productId: $p, channel: $c) { ${ORDER} } }`, { p: PRODUCT_IDS.CREDITS_550, c: channel }, token))
    .createOrder as { id: string; amountFen: number; credits: number; payment: { payUrl: string } };
  const paid = await fetch(order.payment.payUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
  expect(paid.status).toBe(200);
  await expect
    .poll(async () => (await client.call('query($id: ID!) { order(id: $id) { status } }', { id: order.id }, token)).body.data?.order?.status, { timeout: 30_000, interval: 200 })
    .toBe('PAID');
  return order;
}

/** The owed SMS's row in billing's outbox, once it is no longer PENDING. */
async function noticeSettled(orderId: string) {
  await expect.poll(async () => (await sg.db.orderPaidNotice.findUnique({ where: { orderId } }))?.state, { timeout: 60_000, interval: 200 }).toBe('DONE');
  return sg.db.orderPaidNotice.findUniqueOrThrow({ where: { orderId } });
}

it.each(['ALIPAY', 'WECHAT'] as const)('%s: a paid order texts its buyer exactly once, however often the payment is notified', async (channel) => {
  const buyer = await registerWithPhone(sg, clientOf(sg));
  const order = await buyAndPay(buyer.accessToken, channel);

  await expect.poll(() => orderPaidMessages().filter((m) => m.phone === buyer.phone).length, { timeout: 60_000, interval: 200 }).toBe(1);
  expect(orderPaidMessages().find((m) => m.phone === buyer.phone)!.params).toEqual({ credits: '550', amount: '30.00' });
  expect(await noticeSettled(order.id)).toMatchObject({ outcome: 'SENT', attempts: 1 });

  // The provider sends the same notification again (cashier "renotify", and concurrent duplicates): the order was paid
  // once, so nothing is owed again.
  const outTradeNo = order.id.replace(/-/g, '');
  await fetch(order.payment.payUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=renotify' });
  await Promise.all(Array.from({ length: 10 }, () => sg.payments.renotify(outTradeNo)));
  await expect.poll(() => sg.db.paymentNotification.count({ where: { orderId: order.id, verdict: 'DUPLICATE' } }), { timeout: 60_000, interval: 200 }).toBeGreaterThanOrEqual(1);

  // Billing asking again (a retry after a lost answer) gets the stored outcome and sends nothing: order id = key.
  const ask = () =>
    callSubgraph(
      sg.subgraphUrls.user,
      sg.internalTokenSecret,
      { kind: 'service', tenantId: 'default', service: 'billing', requestId: randomUUID() },
      'mutation($o: ID!, $u: ID!) { sendOrderPaidSms(orderId: $o, userId: $u, credits: 550, amountFen: 3000) }',
      { o: order.id, u: buyer.user.id },
    );
  const again = await Promise.all([ask(), ask(), ask()]);
  for (const answer of again) expect(answer.body.data?.sendOrderPaidSms).toBe('SENT');
  expect(orderPaidMessages().filter((m) => m.phone === buyer.phone)).toHaveLength(1);
  expect(await sg.db.orderPaidSms.count({ where: { orderId: order.id } })).toBe(1);
});

it('an SMS provider failure never blocks the payment: the owed SMS is retried until it is sent, once', async () => {
  const buyer = await registerWithPhone(sg, clientOf(sg));
  // The next two SendSms calls fail (HTTP 500 from Dysmsapi): the first attempt and the first retry.
  sg.sms.injectFault('http-500', 2);
  const order = await buyAndPay(buyer.accessToken, 'WECHAT');
  expect(await noticeSettled(order.id)).toMatchObject({ outcome: 'SENT', attempts: 3 });
  expect(orderPaidMessages().filter((m) => m.phone === buyer.phone)).toHaveLength(1);
  expect(await sg.db.orderPaidSms.findUniqueOrThrow({ where: { orderId: order.id } })).toMatchObject({ status: 'SENT', attempts: 3 });
});

it('an SMS that keeps failing is PARKED and shown to operators (metric, alert) until it is sent again', async () => {
  /** billing_order_paid_notices{state="PARKED"} as billing's /metrics reports it now. */
  const parkedNow = async () => {
    const text = await (await fetch(`${new URL(sg.subgraphUrls.billing).origin}/metrics`)).text();
    const line = /^billing_order_paid_notices\{state="PARKED"[^}]*\} (\d+)$/m.exec(text);
    return line ? Number(line[1]) : undefined;
  };
  expect(await parkedNow()).toBe(0);
  const buyer = await registerWithPhone(sg, clientOf(sg));
  // Every attempt fails (the 4 allowed here): billing gives up on this SMS, the payment is not affected.
  sg.sms.injectFault('http-500', 4);
  const order = await buyAndPay(buyer.accessToken, 'ALIPAY');
  await expect.poll(async () => (await sg.db.orderPaidNotice.findUnique({ where: { orderId: order.id } }))?.state, { timeout: 60_000, interval: 200 }).toBe('PARKED');
  const parked = await sg.db.orderPaidNotice.findUniqueOrThrow({ where: { orderId: order.id } });
  expect(parked.attempts).toBe(4);
  expect(parked.lastError).toBeTruthy();
  expect(orderPaidMessages().filter((m) => m.phone === buyer.phone)).toHaveLength(0);
  // What FireflyOrderSmsParked watches: 1 while it is parked.
  expect(await parkedNow()).toBe(1);

  // The operator's runbook (docs/operations.md#fireflyordersmsparked): back to PENDING, the job sends it, once.
  await sg.db.orderPaidNotice.update({ where: { orderId: order.id }, data: { state: 'PENDING', attempts: 0, nextAttemptAt: new Date() } });
  expect(await noticeSettled(order.id)).toMatchObject({ outcome: 'SENT' });
  expect(orderPaidMessages().filter((m) => m.phone === buyer.phone)).toHaveLength(1);
  expect(await parkedNow()).toBe(0);
});

it('a buyer without a phone number gets no SMS; the owed notice ends as NO_PHONE', async () => {
  const buyer = await registerWithEmail(clientOf(sg));
  expect(buyer.user.phone).toBeNull();
  const before = orderPaidMessages().length;
  const order = await buyAndPay(buyer.accessToken, 'ALIPAY');
  expect(await noticeSettled(order.id)).toMatchObject({ outcome: 'NO_PHONE' });
  expect(orderPaidMessages()).toHaveLength(before);
});

it('sendOrderPaidSms is for the billing service only: absent from the public API, refused to users and other services', async () => {
  const buyer = await registerWithPhone(sg, clientOf(sg));
  const mutation = 'mutation($o: ID!, $u: ID!) { sendOrderPaidSms(orderId: $o, userId: $u, credits: 1, amountFen: 1) }';
  const variables = { o: randomUUID(), u: buyer.user.id };
  // Through the gateway it does not exist.
  const publicCall = await clientOf(sg).call(mutation, variables, buyer.accessToken);
  expect(codeOf(publicCall)).toBe('GRAPHQL_VALIDATION_FAILED');
  // At the subgraph, a user credential (even an ADMIN's) and another service are refused.
  const asUser = await callSubgraph(sg.subgraphUrls.user, sg.internalTokenSecret, { kind: 'user', tenantId: 'default', userId: buyer.user.id, roles: ['ADMIN'], sessionId: randomUUID(), requestId: randomUUID() }, mutation, variables);
  expect(codeOf(asUser)).toBe('FORBIDDEN');
  const asConversation = await callSubgraph(sg.subgraphUrls.user, sg.internalTokenSecret, { kind: 'service', tenantId: 'default', service: 'conversation', requestId: randomUUID() }, mutation, variables);
  expect(codeOf(asConversation)).toBe('FORBIDDEN');
  expect(orderPaidMessages().filter((m) => m.phone === buyer.phone)).toHaveLength(0);
});
