import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { QueryEvent } from '@firefly/db';
import { adjustCredits } from '../domain/adjust-credits.ts';
import { grantSignupCredits } from '../domain/grant-signup-credits.ts';
import { releaseReservation } from '../domain/release-reservation.ts';
import { reserveCredits, type ReserveCreditsInput } from '../domain/reserve-credits.ts';
import { settleReservation } from '../domain/settle-reservation.ts';
import { billingScope, expectLedgerInvariant, newTenantId, newUserId, openTestDb } from './helpers.ts';

const queries: QueryEvent[] = [];
// More connections than the default, so that 200 concurrent transactions really contend on the row lock. These
// tests are about who wins the lock, not about timeouts: on a starved machine 200 transactions queued on 20
// connections can wait longer than production's pool and transaction waits, so those are generous here.
const db = openTestDb({ connectionLimit: 20, acquireTimeoutMs: 120_000, onQuery: (event) => queries.push(event) });
const deps = billingScope(db, {}, { maxWaitMs: 120_000, timeoutMs: 60_000 });
afterAll(() => db.$disconnect());

/** A user of a fresh tenant with `credits` available, booked through the ledger (an ADJUSTMENT). */
async function fundedUser(credits: number) {
  const tenantId = newTenantId();
  const userId = newUserId();
  if (credits > 0) await adjustCredits(deps, { tenantId, userId, delta: credits, note: 'test funding', adminUserId: 'test' });
  return { tenantId, userId };
}

function reserveInput(user: { tenantId: string; userId: string }, amount: number, overrides: Partial<ReserveCreditsInput> = {}): ReserveCreditsInput {
  return { ...user, amount, referenceId: `msg-${randomUUID()}`, ttlSeconds: 60, idempotencyKey: randomUUID(), ...overrides };
}

async function settleAll<T>(promises: Promise<T>[]) {
  const results = await Promise.allSettled(promises);
  const fulfilled = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
  return { fulfilled, rejected };
}

describe('the atomic spend', () => {
  it('is one conditional UPDATE statement (check and write cannot be separated)', async () => {
    const user = await fundedUser(10);
    queries.length = 0;
    await reserveCredits(deps, reserveInput(user, 3));
    const updates = queries.map((q) => q.query).filter((sql) => sql.startsWith('UPDATE `') && sql.includes('`CreditAccount`'));
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatch(/SET `available` = \(`CreditAccount`\.`available` - \?\), `reserved` = \(`CreditAccount`\.`reserved` \+ \?\)/);
    expect(updates[0]).toMatch(/WHERE \(`CreditAccount`\.`id` = \? AND `CreditAccount`\.`available` >= \?\)/);
  });
});

describe('statements per credit transaction', () => {
  /** "UPDATE CreditAccount", "INSERT Reservation", "COMMIT": what a statement does to which table. */
  const kind = (sql: string) => (sql.includes('"COMMIT"') ? 'COMMIT' : `${sql.split(' ')[0]} ${/(?:FROM|INTO|UPDATE) `(\w+)`/.exec(sql)?.[1]}`);
  /** The statements of the transaction that starts with the account's lock (the first UPDATE of CreditAccount). */
  const underTheLock = () => {
    const sent = queries.map((q) => kind(q.query));
    return sent.slice(sent.indexOf('UPDATE CreditAccount'));
  };

  it('a hold is the conditional UPDATE and the INSERT of the reservation: nothing is read before it or back while the lock is held', async () => {
    const user = await fundedUser(10);
    queries.length = 0;
    const reservation = await reserveCredits(deps, reserveInput(user, 3));
    expect(underTheLock()).toEqual(['UPDATE CreditAccount', 'INSERT Reservation', 'COMMIT']);
    // Neither the reservation (idempotency: the primary key decides) nor the account (its id is remembered) is read first.
    expect(queries).toHaveLength(3);
    // The row answered is the row stored.
    expect(await deps.store.findReservation(reservation.id, user.tenantId)).toEqual(reservation);
  });

  it("a hold for an account this process has not seen yet reads the account's id once", async () => {
    const user = await fundedUser(10);
    const fresh = billingScope(db);
    queries.length = 0;
    await reserveCredits(fresh, reserveInput(user, 3));
    expect(queries.map((q) => kind(q.query))).toEqual(['SELECT CreditAccount', 'UPDATE CreditAccount', 'INSERT Reservation', 'COMMIT']);
    queries.length = 0;
    await reserveCredits(fresh, reserveInput(user, 3));
    expect(queries.map((q) => kind(q.query))).toEqual(['UPDATE CreditAccount', 'INSERT Reservation', 'COMMIT']);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 4, reserved: 6, entries: 1 });
  });

  it('a booking reads the balance once under its lock and writes the entry and the audit event without reading them back', async () => {
    const user = await fundedUser(10);
    queries.length = 0;
    await adjustCredits(deps, { tenantId: user.tenantId, userId: user.userId, delta: 5, note: 'statements', adminUserId: 'test' });
    expect(underTheLock()).toEqual(['UPDATE CreditAccount', 'SELECT CreditAccount', 'INSERT LedgerEntry', 'INSERT AuditEvent', 'COMMIT']);
    queries.length = 0;
    const refused = await adjustCredits(deps, { tenantId: user.tenantId, userId: user.userId, delta: -100, note: 'too much', adminUserId: 'test' }).catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('BAD_USER_INPUT');
    expect(underTheLock()).toEqual(['UPDATE CreditAccount', 'SELECT CreditAccount', 'COMMIT']);
  });

  it('a booked entry as answered is the entry stored', async () => {
    const user = await fundedUser(0);
    const account = await deps.store.ensureAccount(user.tenantId, user.userId);
    const outcome = await deps.store.book(account, { delta: 7, reason: 'GRANT', referenceId: null, idempotencyKey: `k-${randomUUID()}`, note: 'n' });
    if (outcome.kind !== 'booked') throw new Error(`not booked: ${outcome.kind}`);
    expect(outcome.balance).toEqual({ available: 7, reserved: 0 });
    expect(await deps.store.findEntry(account.id, outcome.entry.idempotencyKey)).toEqual(outcome.entry);
    expect(await deps.store.book(account, { delta: 7, reason: 'GRANT', referenceId: null, idempotencyKey: outcome.entry.idempotencyKey, note: 'n' })).toEqual({ kind: 'duplicate' });
  });

  it('a settlement locks the reservation with its account, moves both in one UPDATE and books its charge without reading the entry back', async () => {
    const user = await fundedUser(10);
    const reservation = await reserveCredits(deps, reserveInput(user, 4));
    queries.length = 0;
    const { reservation: settled } = await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 2, reason: 'CHAT_USAGE', referenceId: reservation.referenceId });
    const sent = queries.map((q) => kind(q.query));
    expect(sent).toEqual(['SELECT Reservation', 'UPDATE Reservation', 'INSERT LedgerEntry', 'COMMIT']);
    expect(queries[0]!.query).toMatch(/JOIN `CreditAccount` a .* FOR UPDATE$/s);
    expect(queries[1]!.query).toMatch(/JOIN `CreditAccount` a .* WHERE r\.`id` = \? AND r\.`status` = 'HELD'/s);
    // The row answered is the row stored.
    expect(await deps.store.findReservation(reservation.id, user.tenantId)).toEqual(settled);
    await expectLedgerInvariant(db, user.tenantId, user.userId);
  });

  it('a settle or release of a reservation that is no longer HELD writes nothing', async () => {
    const user = await fundedUser(10);
    const reservation = await reserveCredits(deps, reserveInput(user, 4));
    await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 2, reason: 'CHAT_USAGE' });
    queries.length = 0;
    await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 2, reason: 'CHAT_USAGE' });
    await releaseReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id });
    expect(queries.map((q) => kind(q.query))).toEqual(['SELECT Reservation', 'COMMIT', 'SELECT Reservation', 'COMMIT']);
  });
});

describe('reservations under concurrency', () => {
  it('200 concurrent reservations against a balance covering only some: exactly floor(balance / amount) succeed', async () => {
    const user = await fundedUser(1_000);
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 200 }, () => reserveCredits(deps, reserveInput(user, 7))));
    expect(fulfilled).toHaveLength(142); // 142 × 7 = 994 ≤ 1000 < 143 × 7
    expect(rejected.map((error) => error.code)).toEqual(Array.from({ length: 58 }, () => 'INSUFFICIENT_CREDITS'));
    expect(new Set(fulfilled.map((r) => r.id)).size).toBe(142);
    const balance = await expectLedgerInvariant(db, user.tenantId, user.userId);
    expect(balance).toEqual({ available: 6, reserved: 994, entries: 1 });
  });

  it('200 concurrent reservations of different sizes never overdraw', async () => {
    const user = await fundedUser(500);
    const amounts = Array.from({ length: 200 }, (_, i) => 1 + (i % 9));
    const results = await Promise.allSettled(amounts.map((amount) => reserveCredits(deps, reserveInput(user, amount))));
    const refusedAmounts = amounts.filter((_, i) => results[i]!.status === 'rejected');
    const refusalCodes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    expect(refusalCodes.filter((code) => code !== 'INSUFFICIENT_CREDITS')).toEqual([]);
    const held = amounts.filter((_, i) => results[i]!.status === 'fulfilled').reduce((sum, amount) => sum + amount, 0);
    const balance = await expectLedgerInvariant(db, user.tenantId, user.userId);
    expect(balance.reserved).toBe(held);
    expect(balance.available).toBe(500 - held);
    // available only shrinks here, so every refused request must still be larger than what is left at the end.
    for (const amount of refusedAmounts) expect(balance.available).toBeLessThan(amount);
  });

  it('the same idempotency key sent 20 times concurrently holds once', async () => {
    const user = await fundedUser(100);
    const input = reserveInput(user, 30);
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 20 }, () => reserveCredits(deps, input)));
    expect(rejected).toEqual([]);
    expect(new Set(fulfilled.map((r) => r.id)).size).toBe(1);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 70, reserved: 30 });
  });

  it('a retry of a hold that was settled meanwhile returns it as it is and holds nothing again', async () => {
    const user = await fundedUser(100);
    const input = reserveInput(user, 30);
    const first = await reserveCredits(deps, input);
    await settleReservation(deps, { tenantId: user.tenantId, reservationId: first.id, actualAmount: 10, reason: 'IMAGE_USAGE' });
    expect(await reserveCredits(deps, input)).toMatchObject({ id: first.id, status: 'SETTLED', settledAmount: 10 });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 90, reserved: 0, entries: 2 });
  });

  it('retries of a hold racing its settlement: held once, charged once, every retry answers the one reservation', async () => {
    const user = await fundedUser(1_000);
    const input = reserveInput(user, 30);
    const first = await reserveCredits(deps, input);
    const { fulfilled, rejected } = await settleAll<unknown>([
      ...Array.from({ length: 10 }, () => reserveCredits(deps, input)),
      settleReservation(deps, { tenantId: user.tenantId, reservationId: first.id, actualAmount: 20, reason: 'IMAGE_USAGE' }),
      ...Array.from({ length: 10 }, () => reserveCredits(deps, input)),
    ]);
    expect(rejected).toEqual([]);
    expect(fulfilled.every((r) => ('id' in (r as object) ? (r as { id: string }).id : (r as { reservation: { id: string } }).reservation.id) === first.id)).toBe(true);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 980, reserved: 0, entries: 2 });
  });

  it("a hold takes the credits of the tenant's own account: the same user id in another tenant is another account", async () => {
    const userId = newUserId();
    const rich = { tenantId: newTenantId(), userId };
    await adjustCredits(deps, { ...rich, delta: 100, note: 'funding', adminUserId: 'test' });
    const poor = { tenantId: newTenantId(), userId };
    await expect(reserveCredits(deps, reserveInput(poor, 10))).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS', extensions: { available: 0, requested: 10 } });
    await adjustCredits(deps, { ...poor, delta: 5, note: 'funding', adminUserId: 'test' });
    await expect(reserveCredits(deps, reserveInput(poor, 10))).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS', extensions: { available: 5, requested: 10 } });
    const held = await reserveCredits(deps, reserveInput(poor, 5));
    expect(held.accountId).toBe((await deps.store.findAccount(poor.tenantId, userId))?.id);
    expect(await expectLedgerInvariant(db, poor.tenantId, userId)).toEqual({ available: 0, reserved: 5, entries: 1 });
    expect(await expectLedgerInvariant(db, rich.tenantId, userId)).toEqual({ available: 100, reserved: 0, entries: 1 });
  });

  it('a retry after the balance ran out still returns the original reservation', async () => {
    const user = await fundedUser(10);
    const input = reserveInput(user, 10);
    const first = await reserveCredits(deps, input);
    expect(await reserveCredits(deps, input)).toMatchObject({ id: first.id, status: 'HELD' });
  });

  it('an idempotency key reused for a different reservation is a CONFLICT', async () => {
    const user = await fundedUser(100);
    const input = reserveInput(user, 10);
    await reserveCredits(deps, input);
    await expect(reserveCredits(deps, { ...input, amount: 11 })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a user without an account has 0 credits', async () => {
    await expect(reserveCredits(deps, reserveInput({ tenantId: newTenantId(), userId: newUserId() }, 1))).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
  });

  it('refuses nonsense amounts and ttls', async () => {
    const user = await fundedUser(10);
    await expect(reserveCredits(deps, reserveInput(user, 0))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(reserveCredits(deps, reserveInput(user, -5))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(reserveCredits(deps, reserveInput(user, 1, { ttlSeconds: 0 }))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(reserveCredits(deps, reserveInput(user, 1, { ttlSeconds: 86_401 }))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('settle and release', () => {
  it('settling below the hold charges the actual amount with one entry and returns the rest', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 40));
    const { reservation: settled, shortfall } = await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 25, reason: 'CHAT_USAGE' });
    expect(settled).toMatchObject({ status: 'SETTLED', settledAmount: 25 });
    expect(shortfall).toBe(0);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 75, reserved: 0, entries: 2 });
    const entry = await db.ledgerEntry.findFirstOrThrow({ where: { tenantId: user.tenantId, userId: user.userId, reason: 'CHAT_USAGE' } });
    expect(entry).toMatchObject({ delta: -25, balanceAfter: 75, referenceId: reservation.referenceId, idempotencyKey: `reservation:${reservation.id}` });
  });

  it('settling above the hold takes the excess from available when there is enough', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 10));
    const result = await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 13, reason: 'IMAGE_USAGE' });
    expect(result).toMatchObject({ reservation: { settledAmount: 13 }, shortfall: 0 });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 87, reserved: 0 });
  });

  it('settling above hold + available charges hold + available, never goes negative, and records the shortfall', async () => {
    const user = await fundedUser(15);
    const reservation = await reserveCredits(deps, reserveInput(user, 10)); // available 5, reserved 10
    const result = await settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 20, reason: 'CHAT_USAGE' });
    expect(result).toMatchObject({ reservation: { status: 'SETTLED', settledAmount: 15 }, shortfall: 5 });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 0, reserved: 0 });
    const entry = await db.ledgerEntry.findFirstOrThrow({ where: { tenantId: user.tenantId, userId: user.userId, reason: 'CHAT_USAGE' } });
    expect(entry).toMatchObject({ delta: -15, balanceAfter: 0 });
    expect(entry.note).toMatch(/^shortfall=5 actual=20 hold=10 charged=15/);
  });

  it('the same settle twice books once; a different amount on the replay changes nothing', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 30));
    const input = { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 20, reason: 'CHAT_USAGE' as const };
    await settleReservation(deps, input);
    expect((await settleReservation(deps, input)).reservation).toMatchObject({ status: 'SETTLED', settledAmount: 20 });
    expect((await settleReservation(deps, { ...input, actualAmount: 29 })).reservation.settledAmount).toBe(20);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 80, reserved: 0, entries: 2 });
  });

  it('30 concurrent settles of one reservation book once', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 30));
    const { fulfilled, rejected } = await settleAll(
      Array.from({ length: 30 }, () => settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 12, reason: 'CHAT_USAGE' })),
    );
    expect(rejected).toEqual([]);
    expect(fulfilled.every((r) => r.reservation.status === 'SETTLED' && r.reservation.settledAmount === 12)).toBe(true);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 88, reserved: 0, entries: 2 });
  });

  it('30 concurrent releases of one reservation return the hold once', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 30));
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 30 }, () => releaseReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id })));
    expect(rejected).toEqual([]);
    expect(fulfilled.every((r) => r.status === 'RELEASED')).toBe(true);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 100, reserved: 0, entries: 1 });
  });

  it('concurrent settles and releases of one reservation: exactly one kind wins, the other sees its result', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 30));
    const ref = { tenantId: user.tenantId, reservationId: reservation.id };
    const { fulfilled, rejected } = await settleAll<unknown>(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? settleReservation(deps, { ...ref, actualAmount: 10, reason: 'CHAT_USAGE' }) : releaseReservation(deps, ref),
      ),
    );
    const final = await db.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
    const balance = await expectLedgerInvariant(db, user.tenantId, user.userId);
    if (final.status === 'SETTLED') {
      expect(balance).toEqual({ available: 90, reserved: 0, entries: 2 });
      expect(rejected).toEqual([]); // a release after a settle is a no-op
    } else {
      expect(final.status).toBe('RELEASED');
      expect(balance).toEqual({ available: 100, reserved: 0, entries: 1 });
      expect(rejected.every((error) => error.code === 'CONFLICT')).toBe(true); // a settle after a release cannot book
    }
    expect(fulfilled.length + rejected.length).toBe(20);
  });

  it('settling a released reservation is a CONFLICT; releasing a settled one changes nothing', async () => {
    const user = await fundedUser(100);
    const a = await reserveCredits(deps, reserveInput(user, 10));
    await releaseReservation(deps, { tenantId: user.tenantId, reservationId: a.id });
    await expect(settleReservation(deps, { tenantId: user.tenantId, reservationId: a.id, actualAmount: 5, reason: 'CHAT_USAGE' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const b = await reserveCredits(deps, reserveInput(user, 10));
    await settleReservation(deps, { tenantId: user.tenantId, reservationId: b.id, actualAmount: 5, reason: 'CHAT_USAGE' });
    expect(await releaseReservation(deps, { tenantId: user.tenantId, reservationId: b.id })).toMatchObject({ status: 'SETTLED', settledAmount: 5 });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toEqual({ available: 95, reserved: 0, entries: 2 });
  });

  it('another tenant cannot settle or release a reservation (NOT_FOUND)', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 10));
    const other = newTenantId();
    await expect(settleReservation(deps, { tenantId: other, reservationId: reservation.id, actualAmount: 5, reason: 'CHAT_USAGE' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(releaseReservation(deps, { tenantId: other, reservationId: reservation.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 90, reserved: 10 });
  });

  it('a settlement may only book usage reasons', async () => {
    const user = await fundedUser(100);
    const reservation = await reserveCredits(deps, reserveInput(user, 10));
    await expect(settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: 5, reason: 'GRANT' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('a mixed workload of one account keeps the invariant: reserve, settle, release and adjust at once', async () => {
    const user = await fundedUser(300);
    const work: Promise<unknown>[] = Array.from({ length: 60 }, async (_, i) => {
      const reservation = await reserveCredits(deps, reserveInput(user, 5 + (i % 7)));
      if (i % 3 === 0) return releaseReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id });
      return settleReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id, actualAmount: i % 15, reason: 'CHAT_USAGE' });
    });
    work.push(...Array.from({ length: 10 }, () => adjustCredits(deps, { ...user, delta: 3, note: 'bonus', adminUserId: 'test' })));
    const { rejected } = await settleAll<unknown>(work);
    expect(rejected.every((error) => error.code === 'INSUFFICIENT_CREDITS')).toBe(true);
    expect((await expectLedgerInvariant(db, user.tenantId, user.userId)).reserved).toBe(0);
  });
});

describe('sign-up grant', () => {
  it('books the configured grant once as GRANT, also when called concurrently and again later', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const results = await Promise.all(Array.from({ length: 10 }, () => grantSignupCredits(deps, { tenantId, userId })));
    expect(results.every((balance) => balance.available === 100 && balance.reserved === 0)).toBe(true);
    expect(await grantSignupCredits(deps, { tenantId, userId })).toEqual({ available: 100, reserved: 0 });
    const entries = await db.ledgerEntry.findMany({ where: { tenantId, userId } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ delta: 100, balanceAfter: 100, reason: 'GRANT' });
    await expectLedgerInvariant(db, tenantId, userId);
  });

  it('uses the configured amount, and with 0 only creates the account', async () => {
    const tenantId = newTenantId();
    const [a, b] = [newUserId(), newUserId()];
    expect(await grantSignupCredits(billingScope(db, { signupGrantCredits: 250 }), { tenantId, userId: a })).toEqual({ available: 250, reserved: 0 });
    expect(await grantSignupCredits(billingScope(db, { signupGrantCredits: 0 }), { tenantId, userId: b })).toEqual({ available: 0, reserved: 0 });
    expect(await db.creditAccount.count({ where: { tenantId, userId: b } })).toBe(1);
    expect(await db.ledgerEntry.count({ where: { tenantId, userId: b } })).toBe(0);
  });

  it('grants per tenant: the same user id in another tenant is another account', async () => {
    const userId = newUserId();
    const [t1, t2] = [newTenantId(), newTenantId()];
    await grantSignupCredits(deps, { tenantId: t1, userId });
    await grantSignupCredits(deps, { tenantId: t2, userId });
    expect(await db.ledgerEntry.count({ where: { userId } })).toBe(2);
  });
});

describe('adjustCredits', () => {
  it('books an ADJUSTMENT with its note and may not push available below 0', async () => {
    const user = await fundedUser(20);
    const reservation = await reserveCredits(deps, reserveInput(user, 15)); // available 5
    expect(await adjustCredits(deps, { ...user, delta: -5, note: 'correction', adminUserId: 'admin-1' })).toEqual({ available: 0, reserved: 15 });
    await expect(adjustCredits(deps, { ...user, delta: -1, note: 'too much', adminUserId: 'admin-1' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await releaseReservation(deps, { tenantId: user.tenantId, reservationId: reservation.id });
    const entries = await db.ledgerEntry.findMany({ where: { tenantId: user.tenantId, userId: user.userId, reason: 'ADJUSTMENT' }, orderBy: { id: 'asc' } });
    expect(entries.map((e) => [e.delta, e.note])).toEqual([
      [20, 'test funding'],
      [-5, 'correction'],
    ]);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 15, reserved: 0 });
  });

  it('refuses a zero delta and an empty note', async () => {
    const user = await fundedUser(0);
    await expect(adjustCredits(deps, { ...user, delta: 0, note: 'x', adminUserId: 'a' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(adjustCredits(deps, { ...user, delta: 5, note: '   ', adminUserId: 'a' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('concurrent negative adjustments never overdraw', async () => {
    const user = await fundedUser(50);
    const { fulfilled, rejected } = await settleAll(Array.from({ length: 40 }, () => adjustCredits(deps, { ...user, delta: -3, note: 'drain', adminUserId: 'a' })));
    expect(fulfilled).toHaveLength(16);
    expect(rejected.every((error) => error.code === 'BAD_USER_INPUT')).toBe(true);
    expect(await expectLedgerInvariant(db, user.tenantId, user.userId)).toMatchObject({ available: 2, reserved: 0 });
  });
});
