/**
 * Start-up warm-up of a process's pool: a freshly started process otherwise opens its MySQL connections one by one
 * under its first requests (a TCP connect, the handshake and the init SQL each), and those requests wait for them —
 * the images bench saw billing's first ~20 s pay ~144 ms of pool acquire + BEGIN at p99 (#12).
 */

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
