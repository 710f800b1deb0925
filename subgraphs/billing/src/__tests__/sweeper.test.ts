import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startJob } from '@firefly/server-kit';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { reserveCredits } from '../domain/reserve-credits.ts';
import { settleReservation } from '../domain/settle-reservation.ts';
import { sweepExpiredReservations, sweepExpiredReservationsJob } from '../jobs/sweep-expired-reservations.ts';
import { reservationStatus } from '../resolvers/Reservation.ts';
import { billingScope, expectLedgerInvariant, newTenantId, newUserId, openTestDb, silentLogger } from './helpers.ts';

const db = openTestDb({ connectionLimit: 10 });
const deps = billingScope(db);
afterAll(() => db.$disconnect());

async function userWith(credits: number) {
  const user = { tenantId: newTenantId(), userId: newUserId() };
  await adjustCredits(deps, { ...user, delta: credits, note: 'test funding', adminUserId: 'test' });
  return user;
}

/** A reservation made `agoSeconds` ago with `ttlSeconds`: expired when agoSeconds > ttlSeconds. */
function reserveAt(user: { tenantId: string; userId: string }, amount: number, agoSeconds: number, ttlSeconds: number) {
  const at = new Date(Date.now() - agoSeconds * 1_000);
  return reserveCredits({ ...deps, now: () => at }, { ...user, amount, referenceId: `job-${randomUUID()}`, ttlSeconds, idempotencyKey: randomUUID() });
}

describe('expiry sweeper', () => {
  it('releases a reservation whose caller never settled; available credits return; a live one stays held', async () => {
    const user = await userWith(100);
    const expired = await reserveAt(user, 30, 120, 60);
    const live = await reserveAt(user, 20, 0, 3_600);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 50, reserved: 50 });

    expect(await sweepExpiredReservations({ store: deps.store, logger: silentLogger })).toBeGreaterThanOrEqual(1);

    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 80, reserved: 20, entries: 1 });
    const swept = await deps.store.findReservation(expired.id, user.tenantId);
    expect(swept?.status).toBe('RELEASED');
    expect(reservationStatus(swept!)).toBe('EXPIRED');
    expect((await deps.store.findReservation(live.id, user.tenantId))?.status).toBe('HELD');
  });

  it('an expired reservation cannot be settled afterwards (CONFLICT), and a second sweep changes nothing', async () => {
    const user = await userWith(100);
    const expired = await reserveAt(user, 30, 120, 60);
    await sweepExpiredReservations({ store: deps.store, logger: silentLogger });
    await expect(settleReservation(deps, { tenantId: user.tenantId, reservationId: expired.id, actualAmount: 10, reason: 'CHAT_USAGE' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await sweepExpiredReservations({ store: deps.store, logger: silentLogger });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 100, reserved: 0, entries: 1 });
  });

  it('concurrent sweeps (several replicas) and a racing settle release or charge each reservation exactly once', async () => {
    const user = await userWith(1_000);
    const reservations = await Promise.all(Array.from({ length: 20 }, () => reserveAt(user, 10, 120, 60)));
    const settles = reservations
      .filter((_, i) => i % 2 === 0)
      .map((r) => settleReservation(deps, { tenantId: user.tenantId, reservationId: r.id, actualAmount: 4, reason: 'IMAGE_USAGE' }).catch((error: { code?: string }) => error.code));
    const sweeps = Array.from({ length: 3 }, () => sweepExpiredReservations({ store: deps.store, logger: silentLogger }));
    const settleResults = await Promise.all(settles);
    await Promise.all(sweeps);
    expect(settleResults.every((r) => r === 'CONFLICT' || (typeof r === 'object' && r.reservation.status === 'SETTLED'))).toBe(true);

    const rows = await db.reservation.findMany({ where: { id: { in: reservations.map((r) => r.id) } } });
    expect(rows.every((r) => r.status !== 'HELD')).toBe(true);
    const settled = rows.filter((r) => r.status === 'SETTLED').length;
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 1_000 - 4 * settled, reserved: 0, entries: 1 + settled });
  });

  it('the loop really releases expired reservations, and reports how many (billing_reservations_expired_total)', async () => {
    const user = await userWith(100);
    await reserveAt(user, 40, 120, 60);
    let reported = 0;
    const sweeper = startJob(sweepExpiredReservationsJob({ store: deps.store, everyMs: 20, onReleased: (n) => (reported += n) }), silentLogger);
    try {
      await expect.poll(async () => (await expectLedgerInvariant(db, user.tenantId, user.userId)).available, { timeout: 5_000 }).toBe(100);
      await expect.poll(() => reported, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    } finally {
      await sweeper.stop();
    }
  });
});
