import { randomUUID } from 'node:crypto';
import { isUniqueConstraintError, Prisma, recordAudit, TenantScopeError, transact as runTransaction, type BillingDb, type BillingTx } from '@firefly/db';
import { newSortableId } from '../domain/ids.ts';
import type { AccountRef, AccountRow, Balance, CloseOutcome, CreditStore, HoldOutcome, BookOutcome, LedgerEntryRow, ReservationRow } from '../domain/ports.ts';
import type { BillingSql } from './raw-sql.ts';

/*
 * LOCKING STRATEGY — why the balance can neither go negative nor lose or invent a credit under concurrency.
 *
 * 1. The CreditAccount row is the mutex of its credits. Every transaction that moves credits takes InnoDB's exclusive
 *    lock on that row (an UPDATE of it, or the locking read of a close) and keeps it until COMMIT/ROLLBACK. So all
 *    money-moving transactions of one account run one after another, and every later statement of a transaction
 *    (reading the balance to compute balanceAfter or a settlement, inserting the ledger entry or the reservation)
 *    sees a state no one else can change until it commits. Other accounts are not blocked.
 * 2. Spending is a conditional atomic UPDATE:
 *      UPDATE CreditAccount SET available = available - :n, reserved = reserved + :n WHERE id = :id AND available >= :n
 *    The check and the write are one statement on the locked, latest committed row (an UPDATE always reads the
 *    current version, never a snapshot), so two spenders can never both pass the check on the same credits:
 *    the second waits for the first's lock, then re-evaluates `available >= :n` on the new value. 0 rows affected
 *    means insufficient credits and nothing was written. Prisma's `updateMany` sends exactly this one statement
 *    (pinned down by __tests__/credits.test.ts); `update` would not do for this. A hold reads nothing before it: the
 *    account's id is remembered from an earlier call (AccountIdCache), and the reservation's primary key decides
 *    idempotency (3).
 * 3. The same transaction writes the ledger entry / reservation row, so the account and its history change
 *    together or not at all. Idempotency is enforced by unique keys, not by find-then-insert: LedgerEntry
 *    (accountId, idempotencyKey) and the Reservation primary key (derived from the caller's idempotency key). A
 *    duplicate insert fails, the whole transaction rolls back (undoing its account UPDATE), and the caller reads
 *    back the original. A settle/release "claims" the reservation with one locking read of the reservation and its
 *    account (SELECT … FOR UPDATE, both rows): a second, concurrent settle of the same reservation waits for that
 *    lock, then sees SETTLED and books nothing. The claim and the account's move are then one UPDATE of both rows,
 *    conditioned on the reservation still being HELD and on the balance (the database's last word).
 * 4. Lock order: a hold or a booking locks the account row, then inserts its children (the inserts take the
 *    foreign-key S lock on the account row they already hold X on, so no lock is ever upgraded). A close locks the
 *    reservation row, then its account (the locking read reads the reservation by primary key first). No transaction
 *    locks an existing reservation after its account, so closes of one account queue on the account row and cannot
 *    deadlock each other or a hold. The one crossing: a hold whose INSERT collides with an existing reservation (a
 *    retry of a hold that was made) waits for that reservation's lock while holding the account's; should that very
 *    reservation be being closed at that moment, InnoDB reports the deadlock at once and transact() runs the loser
 *    again. READ COMMITTED (the session level of every pooled connection, see @firefly/db's transact) keeps InnoDB
 *    from taking gap locks on the secondary indexes (no phantom-range locking needed: nothing here scans a range
 *    while writing), and makes every plain read see the latest committed row. A deadlock or lock-wait abort that
 *    MySQL still reports is retried by @firefly/db's transact(): every transaction here is idempotent.
 * 5. Accounts are created outside these transactions with INSERT IGNORE on the unique (tenantId, userId), so two
 *    first-time callers cannot create two accounts, and no transaction ever upgrades a shared lock to exclusive.
 *
 * Invariant (tested after every concurrency test): for every account, sum(LedgerEntry.delta) = available +
 * reserved, reserved = sum(amount of HELD reservations), both ≥ 0, and balanceAfter is the running sum of deltas.
 * A hold books no ledger entry (credits only move from available to reserved); a settlement books -charged once.
 *
 * Tenants: a request's store runs over a client confined to its tenant (scopeToTenant), which does not filter raw
 * SQL (the close's two statements); such a store is told its tenant (options.tenantId), and its raw statements are
 * confined to it the same way.
 *
 * The SQL here is the subset MySQL 8 and MariaDB share (no RETURNING, no UPDATE … RETURNING).
 */

/** Tuning of the credit transactions. */
export interface CreditStoreOptions {
  /** Milliseconds a transaction may wait for a pooled connection. Default 10,000. */
  maxWaitMs?: number;
  /** Milliseconds a transaction may run before Prisma rolls it back. Default 10,000. */
  timeoutMs?: number;
  /** Tries of a transaction MySQL aborted (deadlock, lock-wait timeout) or that could not start in time. Default 6. */
  attempts?: number;
  /**
   * The tenant the store's client is confined to (scopeToTenant), if any: its raw statements, which that client does
   * not filter, are confined to it too — a call naming another tenant throws TenantScopeError, as the client would.
   */
  tenantId?: string;
  /** Where account ids are remembered; share one per process among the stores of its requests. Default: the store's own. */
  accountIds?: AccountIdCache;
}

/**
 * Account ids by owner (tenant, user), remembered so that a hold needs no read before its UPDATE. An account's id
 * never changes and no account is ever deleted (its ledger entries and reservations reference it), so a remembered id
 * never goes stale. Ids read through a store's client are remembered (committed rows; the warm-up's store, which
 * reads inside a transaction it rolls back, has a cache of its own), at most `max` of them (the oldest go first).
 */
export interface AccountIdCache {
  get(key: string): string | undefined;
  set(key: string, accountId: string): void;
}

export function createAccountIdCache(max = 50_000): AccountIdCache {
  const ids = new Map<string, string>();
  return {
    get: (key) => ids.get(key),
    set(key, accountId) {
      if (ids.has(key)) return;
      if (ids.size >= max) ids.delete(ids.keys().next().value as string);
      ids.set(key, accountId);
    },
  };
}

const accountKey = (tenantId: string, userId: string) => `${tenantId}\u0000${userId}`;

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

/** A reservation row as a close's locking read answers it, with its account's balance. */
interface LockedReservation extends ReservationRow, Balance {}

export function createCreditStore(db: BillingDb & BillingSql, options: CreditStoreOptions = {}): CreditStore {
  const txOptions = {
    maxWait: options.maxWaitMs ?? 10_000,
    timeout: options.timeoutMs ?? 10_000,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
  };
  // Every body below is replayable: ids come from the caller (or bookingStamp(), taken afresh under the lock of
  // each try, which is what its ordering promise needs), and nothing but the database is touched.
  const transact = <T>(fn: (tx: BillingTx) => Promise<T>): Promise<T> => runTransaction(db, fn, txOptions);
  /** The tenant a raw statement is confined to: the one asked for, which must be the store's own if it has one. */
  const confined = <T extends string | null>(tenantId: T): T | string => {
    if (options.tenantId === undefined) return tenantId;
    if (tenantId !== null && tenantId !== options.tenantId) throw new TenantScopeError(`credit store of tenant ${options.tenantId} asked about tenant ${tenantId}`);
    return options.tenantId;
  };

  const accountIds = options.accountIds ?? createAccountIdCache();
  /** The account as committed now; its id is remembered (see AccountIdCache). */
  const findAccount = async (tenantId: string, userId: string): Promise<AccountRow | null> => {
    const account = await db.creditAccount.findUnique({ where: { tenantId_userId: { tenantId, userId } }, select: accountSelect });
    if (account) accountIds.set(accountKey(tenantId, userId), account.id);
    return account;
  };

  return {
    findAccount,

    async ensureAccount(tenantId, userId) {
      const found = await findAccount(tenantId, userId);
      if (found) return found;
      await db.creditAccount.createMany({ data: [{ id: randomUUID(), tenantId, userId }], skipDuplicates: true });
      const created = await findAccount(tenantId, userId);
      if (!created) throw new Error(`the credit account of ${userId} in tenant ${tenantId} was created but cannot be read`);
      return created;
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

    async hold(owner, reservation): Promise<HoldOutcome> {
      const tenantId = confined(owner.tenantId);
      const key = accountKey(tenantId, owner.userId);
      // The account's id, known from an earlier call (it never changes), else read here. No account: nothing to hold.
      const accountId = accountIds.get(key) ?? (await findAccount(tenantId, owner.userId))?.id;
      if (accountId === undefined) return { kind: 'refused' };
      const account = { id: accountId, tenantId, userId: owner.userId };
      try {
        return await transact(async (tx): Promise<HoldOutcome> => {
          const moved = await tx.creditAccount.updateMany({
            where: { id: account.id, available: { gte: reservation.amount } },
            data: { available: { decrement: reservation.amount }, reserved: { increment: reservation.amount } },
          });
          if (moved.count === 0) return { kind: 'refused' };
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

    close(target, request) {
      const tenantId = confined(target.tenantId);
      return transact(async (tx): Promise<CloseOutcome> => {
        const sql = rawSqlOf(tx);
        // The claim: the reservation and its account, both locked, in one statement (see the top of this file).
        const rows = await sql.$queryRaw<LockedReservation[]>(Prisma.sql`SELECT r.\`id\`, r.\`tenantId\`, r.\`accountId\`, r.\`userId\`, r.\`amount\`, r.\`settledAmount\`, r.\`status\`, r.\`referenceId\`, r.\`partnerId\`,
            r.\`chatModelId\`, r.\`chatInputPer1kTokens\`, r.\`chatOutputPer1kTokens\`, r.\`expiresAt\`, r.\`createdAt\`, r.\`updatedAt\`,
            a.\`available\`, a.\`reserved\`
          FROM \`Reservation\` r JOIN \`CreditAccount\` a ON a.\`id\` = r.\`accountId\`
          WHERE r.\`id\` = ${target.id}${tenantId === null ? Prisma.empty : Prisma.sql` AND r.\`tenantId\` = ${tenantId}`}
          FOR UPDATE`);
        const locked = rows[0];
        if (!locked) return { kind: 'missing' };
        const { available, reserved, ...current } = locked;
        if (current.status !== 'HELD' || (request.expiredBy && current.expiresAt > request.expiredBy)) return { kind: 'unchanged', reservation: current };

        const now = new Date();
        const hold = current.amount;
        const { charged, entry } = request.decide(current, available);
        if (!Number.isSafeInteger(charged) || charged < 0 || charged > hold + available) {
          throw new Error(`refusing to charge ${charged} for a hold of ${hold} with ${available} available`);
        }
        const settledAmount = request.status === 'SETTLED' ? charged : null;
        // The claim and the move in one statement. Under the lock these guards always hold; they are the database's
        // last word against a negative balance and a second close.
        const matched = await sql.$executeRaw(Prisma.sql`UPDATE \`Reservation\` r JOIN \`CreditAccount\` a ON a.\`id\` = r.\`accountId\`
          SET a.\`available\` = a.\`available\` + ${hold - charged}, a.\`reserved\` = a.\`reserved\` - ${hold}, a.\`updatedAt\` = ${now},
            r.\`status\` = ${request.status}, r.\`settledAmount\` = ${settledAmount}, r.\`updatedAt\` = ${now}
          WHERE r.\`id\` = ${current.id} AND r.\`status\` = 'HELD' AND a.\`reserved\` >= ${hold} AND a.\`available\` >= ${charged - hold}`);
        // Both rows or neither (an inner join of the two rows locked above).
        if (matched === 0) throw new Error(`reservation ${current.id} or its account ${current.accountId} changed under their lock`);
        if (entry && charged > 0) {
          // A partner's hold books a partner's charge (the tag was taken with the hold, from the service credential).
          await insertRow(tx.ledgerEntry, {
            tenantId: current.tenantId,
            accountId: current.accountId,
            userId: current.userId,
            ...entry,
            ...bookingStamp(),
            partnerId: current.partnerId,
            delta: -charged,
            balanceAfter: available + reserved - charged,
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

/**
 * The raw statements of a credit transaction. transact() hands its body the interactive transaction of the client it
 * was given — this store's, which has `$queryRaw`/`$executeRaw` (BillingSql) — under the narrower BillingTx view.
 */
function rawSqlOf(tx: BillingTx): BillingSql {
  return tx as unknown as BillingSql;
}

async function balanceOf(tx: BillingTx, account: AccountRef): Promise<Balance> {
  return tx.creditAccount.findUniqueOrThrow({ where: { id: account.id }, select: { available: true, reserved: true } });
}
