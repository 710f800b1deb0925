import type { DomainDb, DomainTx, ModelKey, TransactionOptions } from './views.ts';

/*
 * THE ONE WAY TO RUN A TRANSACTION (every `$transaction` of every subgraph goes through `transact`; ESLint refuses
 * `$transaction` elsewhere).
 *
 * Why it retries: InnoDB aborts one transaction of a deadlock (1213), gives up waiting for a row lock after
 * innodb_lock_wait_timeout (1205) and, with snapshot isolation, refuses a write to a row changed since the
 * transaction's snapshot (1020). None of these is the caller's fault and each is cured by running the whole
 * transaction again, after a pause with jitter so that the same two transactions do not collide again in lockstep.
 * Prisma reports 1213 as P2034 ("write conflict or deadlock") and a transaction that could not get a connection in
 * `maxWait` as P2028; the other two only as the driver's error number, which `isRetryableTransactionError` reads.
 *
 * What a body must promise, because it may run more than once:
 * - It only talks to the database through `tx` (no HTTP calls, no Redis writes, no events): the rollback undoes
 *   everything of a failed attempt, so a replay starts from a clean slate.
 * - Ids and timestamps of new rows come from the caller, made once before `transact` (so a replay writes the same
 *   rows, and a caller that logged an id before the transaction still names the row that exists afterwards).
 * - It locks parent rows before children: first the UPDATE of the row that owns the others (the conversation, the
 *   credit account), then the inserts/updates of its children. An insert of a child takes a shared lock on its
 *   parent for the foreign key; a later UPDATE of that parent in the same transaction would have to upgrade it to
 *   exclusive, and two transactions doing so deadlock. Taking the exclusive lock first makes them queue instead.
 *
 * Isolation is READ COMMITTED: none of our transactions relies on a repeatable snapshot (they lock what they depend
 * on with an UPDATE, which always reads the latest committed row), and READ COMMITTED takes no gap locks, which
 * removes a whole class of insert-vs-insert deadlocks on secondary indexes. It is the session level of every pooled
 * connection (createDb's POOL_INIT_SQL), not set per transaction: Prisma's `isolationLevel` option costs a
 * `SET TRANSACTION ISOLATION LEVEL` round trip before each BEGIN. A caller that passes `isolationLevel` still gets it
 * for that one transaction (and pays the round trip).
 */

/** Options of {@link transact}: Prisma's transaction options plus the retry policy. */
export interface TransactOptions extends TransactionOptions {
  /** Tries in all, the first included. Default 6. */
  attempts?: number;
  /** The pause before the first retry, in ms; it doubles each time, up to `maxDelayMs`, and is then jittered. Default 20. */
  baseDelayMs?: number;
  /** The longest pause between two tries, in ms. Default 1,000. */
  maxDelayMs?: number;
  /** Called before each retry (metrics, logs, and tests that want to act between two tries). */
  onRetry?: (retry: TransactionRetry) => void | Promise<void>;
}

/** One retry about to happen. */
export interface TransactionRetry {
  /** The try that just failed (1 for the first). */
  attempt: number;
  /** How long `transact` pauses before the next try. */
  delayMs: number;
  /** What failed the try: a deadlock, a lock-wait timeout, a write conflict or no connection in time. */
  error: unknown;
}

const DEFAULTS = { attempts: 6, baseDelayMs: 20, maxDelayMs: 1_000, maxWait: 5_000, timeout: 10_000 } as const;

/** MySQL/MariaDB error numbers of an aborted transaction that is worth running again. */
const RETRYABLE_ERRNO = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1020, // ER_CHECKREAD: record changed since the snapshot (innodb_snapshot_isolation)
]);
/** Prisma's codes for the same: P2034 deadlock / write conflict, P2028 transaction could not start in `maxWait`. */
const RETRYABLE_PRISMA_CODES = new Set(['P2034', 'P2028']);

/**
 * Runs `body` in one interactive transaction of `db` and, when MySQL aborts it for contention (deadlock, lock-wait
 * timeout, write conflict) or no connection frees up in time, runs it again with exponential backoff and full
 * jitter, up to `attempts` tries. Any other error (a unique-key violation included) rolls back and is thrown at
 * once. The body must be safe to replay: read the rules at the top of this file.
 */
export async function transact<K extends ModelKey, R>(
  db: DomainDb<K>,
  body: (tx: DomainTx<K>) => Promise<R>,
  options: TransactOptions = {},
): Promise<R> {
  const { attempts = DEFAULTS.attempts, baseDelayMs = DEFAULTS.baseDelayMs, maxDelayMs = DEFAULTS.maxDelayMs, onRetry, ...prisma } = options;
  const txOptions: TransactionOptions = {
    // Omitted unless asked for: the connection's session level is already READ COMMITTED (see the top of this file).
    ...(prisma.isolationLevel === undefined ? {} : { isolationLevel: prisma.isolationLevel }),
    maxWait: prisma.maxWait ?? DEFAULTS.maxWait,
    timeout: prisma.timeout ?? DEFAULTS.timeout,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      // eslint-disable-next-line no-restricted-properties -- the one place that may open a transaction
      return await db.$transaction(body, txOptions);
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs);
      await onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** "Full jitter": a uniform pause between 0 and min(max, base·2^(attempt-1)), so colliding callers spread out. */
function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(Math.random() * ceiling);
}

/**
 * True for an error that aborted a whole transaction for contention: Prisma's P2034/P2028, or a driver error
 * 1205/1213/1020 anywhere in its cause chain (Prisma has no code for a lock-wait timeout).
 */
export function isRetryableTransactionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as { code?: unknown; errno?: unknown; meta?: { driverAdapterError?: unknown }; cause?: unknown };
    if (typeof candidate.code === 'string' && RETRYABLE_PRISMA_CODES.has(candidate.code)) return true;
    if (typeof candidate.code === 'number' && RETRYABLE_ERRNO.has(candidate.code)) return true;
    if (typeof candidate.errno === 'number' && RETRYABLE_ERRNO.has(candidate.errno)) return true;
    if (typeof (candidate as { originalCode?: unknown }).originalCode === 'string' && RETRYABLE_ERRNO.has(Number((candidate as { originalCode: string }).originalCode))) {
      return true;
    }
    current = candidate.meta?.driverAdapterError ?? candidate.cause;
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
