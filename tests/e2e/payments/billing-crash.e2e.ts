/**
 * kill -9 of billing while it handles a payment notification. Billing and the gateway run as their own processes
 * (src/main.ts, as in production) against the payment simulator, which notifies the gateway's public
 * `/payments/<channel>/notify` (PAYMENT_NOTIFY_BASE_URL is the gateway's origin) as a real provider would; the gateway
 * forwards the bytes to billing. The test holds the order's row lock, so billing's PENDING → PAID transaction is caught
 * waiting inside MySQL when the notification arrives; billing is then SIGKILLed (the gateway answers the provider with
 * a failure), the lock let go, billing started again — and the provider's own retry, through the gateway again, must
 * credit the order exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { createDb, type Db } from '@firefly/db';
import { PRODUCT_IDS } from '@firefly/db/seed';
import { generatePaymentKeySet, merchantEnvOf, simulatorKeysOf, startPaymentSimulator, type PaymentSimulator } from '@firefly/payments-simulator';
import { callSubgraph, expectData } from '../../src/chat-helpers.ts';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { freePort } from '../../src/processes.ts';
import { eventually, startProcess, type ManagedProcess } from '../../src/subscription-processes.ts';

const secret = randomBytes(32).toString('hex');
let db: Db;
let payments: PaymentSimulator;
let billing: ManagedProcess | undefined;
let gateway: ManagedProcess | undefined;
let env: Record<string, string>;

const startBilling = () => startProcess('billing', 'subgraphs/billing/src/main.ts', env, { readyTimeoutMs: 120_000 });

beforeAll(async () => {
  db = createDb({ url: process.env.DATABASE_URL!, connectionLimit: 4 });
  const keys = generatePaymentKeySet();
  // The providers retry an unanswered notification with a growing pause; long enough here for billing to restart.
  payments = await startPaymentSimulator({ ...simulatorKeysOf(keys), notifyRetryMs: [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000] });
  const [port, gatewayPort] = [await freePort(), await freePort()];
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    INTERNAL_TOKEN_SECRET: secret,
    BILLING_SUBGRAPH_PORT: String(port),
    ...merchantEnvOf(keys, payments.url),
    // The providers notify the public origin (the gateway), never billing itself.
    PAYMENT_NOTIFY_BASE_URL: `http://127.0.0.1:${gatewayPort}`,
    // Reconciliation would also find the payment (by asking the provider); keep it out, so the retry is what credits.
    ORDER_RECONCILE_INTERVAL_SECONDS: '3600',
  };
  billing = await startBilling();
  // The gateway's notify route needs billing's URL only; the other subgraphs are not called by this test.
  gateway = await startProcess(
    'gateway',
    'gateway/src/main.ts',
    { NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', GATEWAY_PORT: String(gatewayPort), INTERNAL_TOKEN_SECRET: secret, BILLING_SUBGRAPH_URL: billing.url },
    { readyTimeoutMs: 120_000 },
  );
}, 240_000);

afterAll(async () => {
  await gateway?.kill();
  await billing?.kill();
  await payments?.close();
  await db?.$disconnect();
});

it.each(['ALIPAY', 'WECHAT'] as const)(
  '%s: billing killed (SIGKILL) mid-settlement credits nothing; after its restart the provider\'s retry credits the order exactly once',
  async (channel) => {
    const { user } = await seedUserWithHistory(db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 10 });
    const identity: Identity = { kind: 'user', tenantId: 'default', userId: user.id, roles: ['USER'], sessionId: randomUUID(), requestId: randomUUID() };
    const order = expectData(
      await callSubgraph(billing!.url, secret, identity, 'mutation($p: ID!, $c: PaymentChannel!) { createOrder(productId: $p, channel: $c) { id status credits } }', {
        p: PRODUCT_IDS.CREDITS_550,
        c: channel,
      }),
    ).createOrder as { id: string; status: string; credits: number };
    expect(order).toMatchObject({ status: 'PENDING', credits: 550 });
    const outTradeNo = order.id.replace(/-/g, '');
    const purchases = () => db.ledgerEntry.findMany({ where: { userId: user.id, reason: 'PURCHASE' }, select: { delta: true, referenceId: true } });
    const state = async () => ({
      status: (await db.order.findUniqueOrThrow({ where: { id: order.id } })).status,
      purchases: await purchases(),
      available: (await db.creditAccount.findFirstOrThrow({ where: { userId: user.id } })).available,
    });

    // Hold the order's row: billing's conditional PENDING → PAID update will wait on it inside its transaction.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM \`Order\` WHERE id = ${order.id} FOR UPDATE`;
        holding();
        await released;
      },
      { timeout: 180_000, maxWait: 20_000 },
    );
    try {
      await held;
      await payments.pay(outTradeNo);
      // The notification reached billing, which verified it and now waits for the row in its settlement transaction.
      await eventually(
        async () => {
          const rows = await db.$queryRaw<{ waiting: bigint }[]>`
            SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST
            WHERE DB = DATABASE() AND INFO LIKE 'UPDATE%Order%' AND COMMAND <> 'Sleep'`;
          return Number(rows[0]!.waiting) > 0;
        },
        'billing to be blocked inside its settlement transaction',
        30_000,
        50,
      );
      await billing!.kill();
    } finally {
      release();
      await holder;
    }

    // The dead process's transaction was rolled back by MySQL: nothing paid, nothing credited; the gateway, whose
    // forward lost its connection, answered the provider with a failure (502), so the provider will send it again.
    expect(await state()).toEqual({ status: 'PENDING', purchases: [], available: 10 });
    const notification = () => payments.notifications().find((n) => n.outTradeNo === outTradeNo && !n.kind.startsWith('REFUND'));
    await eventually(() => notification()?.attempts[0], "the gateway's answer to the first delivery", 30_000, 50);
    expect(notification()?.acknowledged).toBe(false);
    expect(notification()?.attempts[0]).toMatchObject({ status: 502, acknowledged: false });
    expect(gateway!.logs.some((line) => line.msg === 'billing unreachable for a payment notification; the provider will retry')).toBe(true);

    billing = await startBilling();
    await eventually(() => notification()?.acknowledged, "the provider's retry to be acknowledged by the restarted billing", 90_000, 100);
    expect(await state()).toEqual({ status: 'PAID', purchases: [{ delta: 550, referenceId: order.id }], available: 560 });
    expect(notification()!.attempts.length).toBeGreaterThanOrEqual(2);

    // Later and concurrent copies of the same notification change nothing.
    await Promise.all(Array.from({ length: 10 }, () => payments.renotify(outTradeNo)));
    expect(await state()).toEqual({ status: 'PAID', purchases: [{ delta: 550, referenceId: order.id }], available: 560 });
  },
  240_000,
);
