import { randomUUID } from 'node:crypto';
import { isUniqueConstraintError, recordAudit, transact as runTransaction, type BillingDb, type BillingTx } from '@firefly/db';
import { newSortableId } from '../domain/ids.ts';
import type { AccountRef, AccountRow, Balance, CloseOutcome, CreditStore, HoldOutcome, BookOutcome, LedgerEntryRow, ReservationRow } from '../domain/ports.ts';

/*
 * LOCKING STRATEGY — why the balance can neither go negative nor lose or invent a credit under concurrency.
 *
 * 1. The CreditAccount row is the mutex of its credits. Every transaction that moves credits starts with an UPDATE
 *    of that row, which takes InnoDB's exclusive row lock and keeps it until COMMIT/ROLLBACK. So all money-moving
 *    transactions of one account run one after another, and every later statement of a transaction (reading the
 *    reservation's status, reading the balance to compute balanceAfter or a settlement, inserting the ledger entry)
 *    sees a state no one else can change until it commits. Other accounts are not blocked.
 * 2. Spending is a conditional atomic UPDATE:
 *      UPDATE CreditAccount SET available = available - :n, reserved = reserved + :n WHERE id = :id AND available >= :n
 *    The check and the write are one statement on the locked, latest committed row (an UPDATE always reads the
 *    current version, never a snapshot), so two spenders can never both pass the check on the same credits:
 *    the second waits for the first's lock, then re-evaluates `available >= :n` on the new value. 0 rows affected
 *    means insufficient credits and nothing was written. Prisma's `updateMany` sends exactly this one statement
 *    (pinned down by __tests__/credits.test.ts); `update` would not do for this, and there is no SELECT … FOR UPDATE in Prisma.
 * 3. The same transaction writes the ledger entry / reservation row, so the account and its history change
 *    together or not at all. Idempotency is enforced by unique keys, not by find-then-insert: LedgerEntry
 *    (accountId, idempotencyKey) and the Reservation primary key (derived from the caller's idempotency key). A
 *    duplicate insert fails, the whole transaction rolls back (undoing its account UPDATE), and the caller reads
 *    back the original. A settle/release "claims" the reservation by re-reading its status under the account lock;
 *    a second, concurrent settle of the same reservation waits for the lock, then sees SETTLED and books nothing.
 * 4. Lock order is always account row first, then its reservation/ledger rows (inserts take the foreign-key S lock
 *    on the account row we already hold X on), so transactions of one account cannot deadlock each other. READ
 *    COMMITTED (the session level of every pooled connection, see @firefly/db's transact) keeps InnoDB from taking gap locks on the secondary indexes (no phantom-range locking needed:
 *    nothing here scans a range while writing), and makes every plain read see the latest committed row. A
 *    deadlock or lock-wait abort that MySQL still reports is retried by @firefly/db's transact(): every transaction here
 *    is idempotent.
 * 5. Accounts are created outside these transactions with INSERT IGNORE on the unique (tenantId, userId), so two
 *    first-time callers cannot create two accounts, and no transaction ever upgrades a shared lock to exclusive.
 *
 * Invariant (tested after every concurrency test): for every account, sum(LedgerEntry.delta) = available +
 * reserved, reserved = sum(amount of HELD reservations), both ≥ 0, and balanceAfter is the running sum of deltas.
 * A hold books no ledger entry (credits only move from available to reserved); a settlement books -charged once.
 */

/** Tuning of the credit transactions. */
export interface CreditStoreOptions {
  /** Milliseconds a transaction may wait for a pooled connection. Default 10,000. */
  maxWaitMs?: number;
  /** Milliseconds a transaction may run before Prisma rolls it back. Default 10,000. */
  timeoutMs?: number;
  /** Tries of a transaction MySQL aborted (deadlock, lock-wait timeout) or that could not start in time. Default 6. */
  attempts?: number;
}

const accountSelect = { id: true, tenantId: true, userId: true, available: true, reserved: true } as const;
const entrySelect = {
  id: true,
  tenantId: true,
  accountId: true,
  userId: true,
  delta: true,
  balanceAfter: true,
  reason: true,
  referenceId: true,
  idempotencyKey: true,
  note: true,
  partnerId: true,
  createdAt: true,
} as const;
const reservationSelect = {
  id: true,
  tenantId: true,
  accountId: true,
  userId: true,
  amount: true,
  settledAmount: true,
  status: true,
  referenceId: true,
  partnerId: true,
  chatModelId: true,
  chatInputPer1kTokens: true,
  chatOutputPer1kTokens: true,
  expiresAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

export function createCreditStore(db: BillingDb, options: CreditStoreOptions = {}): CreditStore {
  const txOptions = {
    maxWait: options.maxWaitMs ?? 10_000,
    timeout: options.timeoutMs ?? 10_000,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
  };
  // Every body below is replayable: ids come from the caller (or bookingStamp(), taken afresh under the lock of
  // each try, which is what its ordering promise needs), and nothing but the database is touched.
  const transact = <T>(fn: (tx: BillingTx) => Promise<T>): Promise<T> => runTransaction(db, fn, txOptions);

  const findAccount = (tenantId: string, userId: string): Promise<AccountRow | null> =>
    db.creditAccount.findUnique({ where: { tenantId_userId: { tenantId, userId } }, select: accountSelect });

  return {
    findAccount,

    async ensureAccount(tenantId, userId) {
      const found = await findAccount(tenantId, userId);
      if (found) return found;
      await db.creditAccount.createMany({ data: [{ id: randomUUID(), tenantId, userId }], skipDuplicates: true });
      return db.creditAccount.findUniqueOrThrow({ where: { tenantId_userId: { tenantId, userId } }, select: accountSelect });
    },

    findEntry(accountId, idempotencyKey) {
      return db.ledgerEntry.findUnique({ where: { accountId_idempotencyKey: { accountId, idempotencyKey } }, select: entrySelect });
    },

    async book(account, entry, audit): Promise<BookOutcome> {
      try {
        return await transact(async (tx): Promise<BookOutcome> => {
          const moved = await tx.creditAccount.updateMany({
            where: { id: account.id, ...(entry.delta < 0 ? { available: { gte: -entry.delta } } : {}) },
            data: { available: { increment: entry.delta } },
          });
          // Under the lock the UPDATE took: the balance this entry leaves (MariaDB has no UPDATE … RETURNING).
          const balance = await balanceOf(tx, account);
          if (moved.count === 0) return { kind: 'insufficient', available: balance.available };
          // The row is written as given and not read back (see insertRow).
          const row: LedgerEntryRow = { ...ownerOf(account), ...entry, partnerId: null, ...bookingStamp(), balanceAfter: balance.available + balance.reserved };
          await insertRow(tx.ledgerEntry, row);
          if (audit) await recordAudit(tx, { ...audit, details: { ...audit.details, entryId: row.id, available: balance.available, reserved: balance.reserved } });
          return { kind: 'booked', entry: row, balance };
        });
      } catch (error) {
        if (isUniqueConstraintError(error)) return { kind: 'duplicate' };
        throw error;
      }
    },

    findReservation(id, tenantId) {
      return db.reservation.findFirst({ where: { id, ...(tenantId === null ? {} : { tenantId }) }, select: reservationSelect });
    },

    async hold(account, reservation): Promise<HoldOutcome> {
      try {
        return await transact(async (tx): Promise<HoldOutcome> => {
          const moved = await tx.creditAccount.updateMany({
            where: { id: account.id, available: { gte: reservation.amount } },
            data: { available: { decrement: reservation.amount }, reserved: { increment: reservation.amount } },
          });
          if (moved.count === 0) return { kind: 'insufficient', available: (await balanceOf(tx, account)).available };
          const now = new Date();
          const { chatPrice, ...held } = reservation;
          const row: ReservationRow = {
            ...ownerOf(account),
            ...held,
            chatModelId: chatPrice?.modelId ?? null,
            chatInputPer1kTokens: chatPrice?.inputPer1kTokens ?? null,
            chatOutputPer1kTokens: chatPrice?.outputPer1kTokens ?? null,
            settledAmount: null,
            status: 'HELD',
            createdAt: now,
            updatedAt: now,
          };
          await insertRow(tx.reservation, row);
          return { kind: 'held', reservation: row };
        });
      } catch (error) {
        if (isUniqueConstraintError(error)) return { kind: 'duplicate' };
        throw error;
      }
    },

    close(reservation, request) {
      return transact(async (tx): Promise<CloseOutcome> => {
        const now = new Date();
        const account = { id: reservation.accountId, tenantId: reservation.tenantId, userId: reservation.userId };
        // The account lock first (see the top of this file); the write itself is only a touch of updatedAt.
        const locked = await tx.creditAccount.updateMany({ where: { id: account.id }, data: { updatedAt: now } });
        if (locked.count !== 1) throw new Error(`credit account ${account.id} of reservation ${reservation.id} is missing`);

        const current = await tx.reservation.findUnique({ where: { id: reservation.id }, select: reservationSelect });
        if (!current) throw new Error(`reservation ${reservation.id} disappeared`);
        if (current.status !== 'HELD' || (request.expiredBy && current.expiresAt > request.expiredBy)) return { kind: 'unchanged', reservation: current };

        const balance = await balanceOf(tx, account);
        const hold = current.amount;
        const { charged, entry } = request.decide(balance.available);
        if (!Number.isSafeInteger(charged) || charged < 0 || charged > hold + balance.available) {
          throw new Error(`refusing to charge ${charged} for a hold of ${hold} with ${balance.available} available`);
        }
        // Under the lock these guards always hold; they are the database's last word against a negative balance.
        const moved = await tx.creditAccount.updateMany({
          where: { id: account.id, reserved: { gte: hold }, available: { gte: charged - hold } },
          data: { available: { increment: hold - charged }, reserved: { decrement: hold } },
        });
        if (moved.count !== 1) throw new Error(`credit account ${account.id} does not hold reservation ${reservation.id}`);
        const settledAmount = request.status === 'SETTLED' ? charged : null;
        const closed = await tx.reservation.updateMany({ where: { id: current.id, status: 'HELD' }, data: { status: request.status, settledAmount, updatedAt: now } });
        if (closed.count !== 1) throw new Error(`reservation ${reservation.id} changed under its account lock`);
        if (entry && charged > 0) {
          // A partner's hold books a partner's charge (the tag was taken with the hold, from the service credential).
          await insertRow(tx.ledgerEntry, {
            ...ownerOf(account),
            ...entry,
            ...bookingStamp(),
            partnerId: current.partnerId,
            delta: -charged,
            balanceAfter: balance.available + balance.reserved - charged,
          });
        }
        return { kind: 'closed', reservation: { ...current, status: request.status, settledAmount, updatedAt: now }, charged };
      });
    },

    listExpired(now, limit) {
      return db.reservation.findMany({
        where: { status: 'HELD', expiresAt: { lte: now } },
        orderBy: { expiresAt: 'asc' },
        take: limit,
        select: reservationSelect,
      });
    },
  };
}

/**
 * Id and time of a ledger entry, taken under the account lock (never before waiting for it), so that entries of one
 * account sort by (createdAt, id) in booking order: the ms timestamp cannot go back across a lock hand-over, and the
 * id's counter orders entries of the same millisecond (within one process; across replicas a same-ms tie is broken
 * by the id's random bits). createdAt is written explicitly at ms precision, which keyset cursors rely on.
 */
function bookingStamp(): { id: string; createdAt: Date } {
  const createdAt = new Date();
  return { id: newSortableId(createdAt.getTime()), createdAt };
}

/**
 * Inserts one row exactly as given, in one statement. Prisma's `create` on MySQL sends the INSERT and then a SELECT
 * reading the row back (the database cannot return it); every column of ours is set by us (ids, timestamps at ms
 * precision, no database defaults taking effect), so the row we hold is the row stored and the read-back is a round
 * trip for nothing — one made while the account's lock is held. A duplicate key still fails the INSERT itself.
 */
async function insertRow<Row>(delegate: { createMany(args: { data: Row[] }): Promise<{ count: number }> }, row: Row): Promise<void> {
  const { count } = await delegate.createMany({ data: [row] });
  if (count !== 1) throw new Error(`inserted ${count} rows instead of 1`);
}

function ownerOf(account: AccountRef) {
  return { tenantId: account.tenantId, accountId: account.id, userId: account.userId };
}

async function balanceOf(tx: BillingTx, account: AccountRef): Promise<Balance> {
  return tx.creditAccount.findUniqueOrThrow({ where: { id: account.id }, select: { available: true, reserved: true } });
}
