import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { generatePaymentKeySet, merchantEnvOf, simulatorKeysOf, startPaymentSimulator, type PaymentSimulator } from '@firefly/payments-simulator';
import type { Db } from '@firefly/db';
import { startTestBilling, userIdentity, type TestBilling } from './helpers.ts';

export interface PaymentTestbed {
  billing: TestBilling;
  simulator: PaymentSimulator;
  stop(): Promise<void>;
}

/**
 * The payment simulator (fresh keys on both sides, a compressed retry schedule) and the billing subgraph configured
 * with the merchant's keys and pointed at it, as `npm start` wires them.
 */
export async function startPaymentTestbed(env: Record<string, string> = {}): Promise<PaymentTestbed> {
  const keys = generatePaymentKeySet();
  const simulator = await startPaymentSimulator({ ...simulatorKeysOf(keys), notifyRetryMs: [50, 100, 200, 400, 800], wechatRefundDelayMs: 50 });
  // Notifications go straight to billing's own routes (the gateway's forwarding is tested end to end in tests/e2e).
  const port = await freePort();
  const billing = await startTestBilling({ port, env: { ...merchantEnvOf(keys, simulator.url), PAYMENT_NOTIFY_BASE_URL: `http://127.0.0.1:${port}`, ...env } });
  return {
    billing,
    simulator,
    async stop() {
      await billing.stop();
      await simulator.close();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A product in a tenant of its own (tests never share catalog rows). */
export async function newProduct(db: Db, tenantId: string, overrides: { priceFen?: number; credits?: number; active?: boolean } = {}) {
  return db.product.create({
    data: { id: `p-${randomUUID()}`, tenantId, name: '100 credits', credits: overrides.credits ?? 100, priceFen: overrides.priceFen ?? 990, active: overrides.active ?? true },
  });
}

export const ORDER_FIELDS = 'id amountFen credits channel status paidAt createdAt product { id priceFen } payment { qrCodeUrl payUrl expiresAt }';

export function orderApi(billing: TestBilling, tenantId: string, userId: string, roles: Array<'USER' | 'ADMIN'> = ['USER']) {
  const me = userIdentity(tenantId, userId, roles);
  return {
    create: (productId: string, channel: 'ALIPAY' | 'WECHAT') =>
      billing.request(`mutation($p: ID!, $c: PaymentChannel!) { createOrder(productId: $p, channel: $c) { ${ORDER_FIELDS} } }`, { p: productId, c: channel }, me),
    cancel: (id: string) => billing.request(`mutation($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`, { id }, me),
    get: (id: string) => billing.request(`query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`, { id }, me),
    raw: (query: string, variables: Record<string, unknown>) => billing.request(query, variables, me),
  };
}

/** Posts the cashier form as a buyer's browser would. */
export async function cashierAction(url: string, action: 'pay' | 'renotify'): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ action }).toString(), redirect: 'manual' });
  return { status: response.status, text: await response.text() };
}

/** The account's balance and its PURCHASE entries for one order. */
export async function purchasesOf(db: Db, tenantId: string, userId: string, orderId: string) {
  const account = await db.creditAccount.findUnique({ where: { tenantId_userId: { tenantId, userId } } });
  const entries = await db.ledgerEntry.findMany({ where: { tenantId, userId, reason: 'PURCHASE', referenceId: orderId } });
  return { available: account?.available ?? 0, entries };
}

export const outTradeNoOf = (orderId: string) => orderId.replace(/-/g, '');
