import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderStatus, PaymentNotificationVerdict } from '@firefly/db';
import { startJob } from '@firefly/server-kit';
import { prunePaymentNotifications, prunePaymentNotificationsJob } from '../jobs/prune-payment-notifications.ts';
import { newTenantId, newUserId, openTestDb, silentLogger } from './helpers.ts';

const db = openTestDb({ connectionLimit: 5 });
afterAll(() => db.$disconnect());

const DAY = 86_400_000;
// The real clock: the other billing tests (sharing this database) write records received now, which no retention of a
// day or more touches; this file's records are dated back.
const now = new Date();
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);

async function orderIn(status: OrderStatus) {
  const id = randomUUID();
  await db.order.create({
    data: {
      id,
      tenantId: newTenantId(),
      userId: newUserId(),
      productId: 'credits-550',
      amountFen: 3000,
      credits: 550,
      channel: 'ALIPAY',
      status,
      outTradeNo: id.replace(/-/g, ''),
      expiresAt: new Date(),
    },
  });
  return id;
}

async function notification(receivedAt: Date, orderId: string | null, verdict: PaymentNotificationVerdict = 'ACCEPTED') {
  const id = randomUUID();
  await db.paymentNotification.create({
    data: { id, channel: 'ALIPAY', orderId, tenantId: null, reference: orderId, verdict, reason: verdict === 'REFUSED' ? 'bad_signature' : 'credited', payloadSha256: '0'.repeat(64), receivedAt },
  });
  return id;
}

const remaining = async (ids: string[]) => (await db.paymentNotification.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((row) => row.id).sort();

describe('payment notification retention', () => {
  it('deletes records older than the retention, keeps newer ones and those of a PENDING or REFUNDING order', async () => {
    const [paid, closed, pending, refunding] = await Promise.all([orderIn('PAID'), orderIn('CLOSED'), orderIn('PENDING'), orderIn('REFUNDING')]);
    const old = {
      paid: await notification(daysAgo(200), paid),
      closed: await notification(daysAgo(400), closed, 'DUPLICATE'),
      forged: await notification(daysAgo(181), null, 'REFUSED'),
      pending: await notification(daysAgo(200), pending),
      refunding: await notification(daysAgo(300), refunding),
    };
    const recent = { paid: await notification(daysAgo(179), paid), forged: await notification(daysAgo(1), null, 'REFUSED') };
    const all = [...Object.values(old), ...Object.values(recent)];

    const deleted = await prunePaymentNotifications({ db, logger: silentLogger, retentionMs: 180 * DAY, now: () => now });
    expect(deleted).toBeGreaterThanOrEqual(3);
    expect(await remaining(all)).toEqual([old.pending, old.refunding, recent.paid, recent.forged].sort());

    // The refund finishes: its order's old records go with the next run. A second run deletes nothing more.
    await db.order.update({ where: { id: refunding }, data: { status: 'REFUNDED' } });
    await prunePaymentNotifications({ db, logger: silentLogger, retentionMs: 180 * DAY, now: () => now });
    expect(await remaining(all)).toEqual([old.pending, recent.paid, recent.forged].sort());
  });

  it('works through more rows than one batch, past kept rows, and concurrent runs (replicas) delete each row once', async () => {
    const pending = await orderIn('PENDING');
    // Kept rows first (oldest), so a run that re-read them every round would never reach the others.
    const kept = await Promise.all(Array.from({ length: 5 }, (_, i) => notification(daysAgo(1_000 + i), pending)));
    const doomed = await Promise.all(Array.from({ length: 23 }, (_, i) => notification(daysAgo(900 - i), null, 'REFUSED')));
    const runs = await Promise.all(
      Array.from({ length: 3 }, () => prunePaymentNotifications({ db, logger: silentLogger, retentionMs: 800 * DAY, batchSize: 4, maxRounds: 50, now: () => now })),
    );
    expect(runs.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(doomed.length);
    expect(await remaining([...kept, ...doomed])).toEqual([...kept].sort());
  });

  it('runs as a job on its interval', async () => {
    // The job uses the real clock: a row received 10 days ago goes with a 1-day retention, one from now stays.
    const gone = await notification(new Date(Date.now() - 10 * DAY), null, 'REFUSED');
    const stays = await notification(new Date(), null, 'REFUSED');
    const job = startJob(prunePaymentNotificationsJob({ db, retentionDays: 1, everyMs: 50 }), silentLogger);
    try {
      await expect.poll(async () => remaining([gone, stays]), { timeout: 10_000, interval: 50 }).toEqual([stays]);
    } finally {
      await job.stop();
    }
  });
});
