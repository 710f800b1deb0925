/**
 * Start-up warm-up of a process's pool: a freshly started process otherwise opens its MySQL connections one by one
 * under its first requests (a TCP connect, the handshake and the init SQL each), and those requests wait for them —
 * the images bench saw billing's first ~20 s pay ~144 ms of pool acquire + BEGIN at p99 (#12).
 */
import { transact } from './transaction.ts';
import type { Db } from './client.ts';
import type { DomainTx, ModelKey } from './views.ts';

/** The part of the Prisma client this needs (any createDb client). */
interface TransactionalDb {
  $transaction<R>(body: (tx: { $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown> }) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Opens `connections` pooled connections now: that many transactions, each holding its connection until all of
 * them have one (so none is served twice), each running `SELECT 1`. Resolves once they are all open and back in
 * the pool; rejects when the database cannot be reached (the caller decides whether that stops the start-up).
 * Give it the pool's size (createDb's connectionLimit).
 */
export async function openPool(db: TransactionalDb, connections: number, timeoutMs = 10_000): Promise<void> {
  if (!Number.isInteger(connections) || connections < 1) throw new Error(`openPool: connections must be a positive integer (got ${connections})`);
  let opened = 0;
  let allOpen!: () => void;
  const everyoneHasOne = new Promise<void>((resolve) => (allOpen = resolve));
  // Bounded: if the pool gives fewer connections than asked (a smaller limit), those holding one still finish.
  const waitForOthers = Promise.race([everyoneHasOne, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  await Promise.all(
    Array.from({ length: connections }, () =>
      // eslint-disable-next-line no-restricted-properties -- a transaction only to hold one connection each; nothing to retry
      db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1`;
          if (++opened === connections) allOpen();
          await waitForOthers;
        },
        { maxWait: timeoutMs, timeout: timeoutMs + 1_000 },
      ),
    ),
  );
}

/** Where {@link openPoolAtStart} reports (a pino logger fits). */
interface WarmUpLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/**
 * {@link openPool} for a process entry, before it listens: logs how long it took, and on failure logs and resolves
 * (a database outage at start-up is `/readyz`'s to report; the pool opens connections once MySQL is back).
 */
export async function openPoolAtStart(db: TransactionalDb, connections: number, logger: WarmUpLogger): Promise<void> {
  const started = performance.now();
  try {
    await openPool(db, connections);
    logger.info({ ms: Math.round(performance.now() - started), connections }, 'opened the database pool');
  } catch (error) {
    logger.warn({ err: error }, 'opening the database pool failed; starting anyway');
  }
}

/** Thrown at the end of a warm-up's transaction so that everything it ran is rolled back. */
class RollBack extends Error {}

export interface WarmUpOptions {
  /** The pool's size (createDb's connectionLimit): every connection is opened. */
  poolSize: number;
  logger: WarmUpLogger;
  /** What `statements` warm, for the log line: `warmed up the pool and <what>`. */
  what: string;
  /**
   * Runs the process's hot statements once each, inside one transaction that is always rolled back (for ids made up
   * by the caller: nothing is kept, no real row is locked). Reads through the process's own request-path clients
   * may run here too.
   */
  statements: (tx: DomainTx<ModelKey>) => Promise<void>;
}

/**
 * Warms a freshly started process before it serves (billing before it listens, an image worker before its first
 * job): {@link openPool}, then each hot statement once, so that opening connections, loading Prisma's query compiler
 * and each query shape's first compilation are paid here and not by the first requests. One try: a warm-up MySQL
 * aborted is not worth repeating. A failure is logged and the process starts anyway (an optimisation; a database
 * outage is `/readyz`'s to report).
 */
export async function warmUpAtStart(db: Db, options: WarmUpOptions): Promise<void> {
  const started = performance.now();
  try {
    await openPool(db, options.poolSize);
    await transact<ModelKey, void>(
      db,
      async (tx) => {
        await options.statements(tx);
        throw new RollBack();
      },
      { maxWait: 10_000, timeout: 20_000, attempts: 1 },
    ).catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
    options.logger.info({ ms: Math.round(performance.now() - started), connections: options.poolSize }, `warmed up the pool and ${options.what}`);
  } catch (error) {
    options.logger.warn({ err: error }, 'warming up failed; starting anyway');
  }
}
