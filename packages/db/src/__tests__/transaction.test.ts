import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, isUniqueConstraintError, Prisma, transact, type Db, type TransactionRetry } from '../index.ts';
import { createScratchDatabase, openConnection, type ScratchDatabase } from '../testing.ts';

/** A promise and its resolver: lets two transactions meet at a chosen statement, without sleeping. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe('transact', () => {
  let scratch: ScratchDatabase;
  let db: Db;

  beforeAll(async () => {
    scratch = await createScratchDatabase('db_transact');
    db = createDb({ url: scratch.url, connectionLimit: 4 });
    await db.tenant.createMany({ data: ['a', 'b', 'c'].map((id) => ({ id: `t-${id}`, slug: `t-${id}`, name: id })) });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it('runs a deadlocked transaction again, so both sides of a deadlock commit', async () => {
    // Two transactions lock t-a and t-b in opposite orders and meet in the middle: InnoDB must abort one of them.
    const aLocked = signal();
    const bLocked = signal();
    const retries: TransactionRetry[] = [];
    let firstTries = 0;
    const crossing = (first: string, second: string, mine: ReturnType<typeof signal>, theirs: ReturnType<typeof signal>, name: string) =>
      transact(
        db,
        async (tx) => {
          await tx.tenant.update({ where: { id: first }, data: { name } });
          if (firstTries++ < 2) {
            mine.fire();
            await theirs.promise;
          }
          await tx.tenant.update({ where: { id: second }, data: { name } });
          return name;
        },
        { onRetry: (retry) => void retries.push(retry) },
      );

    const results = await Promise.all([crossing('t-a', 't-b', aLocked, bLocked, 'one'), crossing('t-b', 't-a', bLocked, aLocked, 'two')]);
    expect(results).toEqual(['one', 'two']);
    expect(retries).toHaveLength(1);
    expect((retries[0]?.error as { code?: string }).code).toBe('P2034');
    // The survivor's writes and the replayed transaction's writes are both there: the replay ran last.
    const names = await db.tenant.findMany({ where: { id: { in: ['t-a', 't-b'] } }, select: { name: true } });
    expect(new Set(names.map((n) => n.name)).size).toBe(1);
  });

  it('runs a transaction again after a lock-wait timeout', async () => {
    const holder = await openConnection(scratch.url);
    try {
      await holder.query('START TRANSACTION');
      await holder.query("UPDATE Tenant SET name = 'held' WHERE id = 't-c'");
      const retries: TransactionRetry[] = [];
      const outcome = await transact(
        db,
        async (tx) => {
          // One second instead of the server's 50: a session setting of this pooled connection, reset below.
          await (tx as unknown as Prisma.TransactionClient).$executeRaw`SET SESSION innodb_lock_wait_timeout = 1`;
          await tx.tenant.update({ where: { id: 't-c' }, data: { name: 'waited' } });
          return 'done';
        },
        {
          // The lock holder commits as soon as the first try has given up: the second try finds the row free.
          onRetry: async (retry) => {
            retries.push(retry);
            await holder.query('COMMIT');
          },
        },
      );
      expect(outcome).toBe('done');
      expect(retries).toHaveLength(1);
      expect(JSON.stringify(retries[0]?.error, Object.getOwnPropertyNames(retries[0]?.error))).toMatch(/1205|Lock wait timeout/);
      expect((await db.tenant.findUniqueOrThrow({ where: { id: 't-c' } })).name).toBe('waited');
    } finally {
      await holder.end();
      await db.$executeRaw`SET SESSION innodb_lock_wait_timeout = DEFAULT`;
    }
  });

  it('throws any other error at once, after rolling back: a duplicate key is not retried', async () => {
    let tries = 0;
    const retries: TransactionRetry[] = [];
    const attempt = transact(
      db,
      async (tx) => {
        tries++;
        await tx.tenant.update({ where: { id: 't-a' }, data: { name: 'rolled back' } });
        await tx.tenant.create({ data: { id: 't-b', slug: 't-b-again', name: 'duplicate' } });
      },
      { onRetry: (retry) => void retries.push(retry) },
    );
    const error = await attempt.catch((caught: unknown) => caught);
    expect(isUniqueConstraintError(error)).toBe(true);
    expect(tries).toBe(1);
    expect(retries).toEqual([]);
    expect((await db.tenant.findUniqueOrThrow({ where: { id: 't-a' } })).name).not.toBe('rolled back');
  });

  it('gives up after `attempts` tries with the last error', async () => {
    let tries = 0;
    const conflict = new Prisma.PrismaClientKnownRequestError('Transaction failed due to a write conflict or a deadlock', { code: 'P2034', clientVersion: 'test' });
    const error = await transact(
      db,
      async () => {
        tries++;
        throw conflict;
      },
      { attempts: 3, baseDelayMs: 1 },
    ).catch((caught: unknown) => caught);
    expect(error).toBe(conflict);
    expect(tries).toBe(3);
  });

  describe('isolation', () => {
    // One connection, so the session counters read below are the transaction's connection's.
    let single: Db;
    beforeAll(() => {
      single = createDb({ url: scratch.url, connectionLimit: 1 });
    });
    afterAll(async () => {
      await single?.$disconnect();
    });

    /** Statements this session has sent (MariaDB's `Questions`, which counts every client statement but no pings). */
    const questions = async (client: Db): Promise<number> => {
      const rows = await client.$queryRaw<{ Value: string }[]>`SHOW SESSION STATUS LIKE 'Questions'`;
      return Number(rows[0]?.Value);
    };

    it('runs every transaction at READ COMMITTED: a row committed by another session meanwhile is seen on the next read', async () => {
      const other = await openConnection(scratch.url);
      try {
        const seen = await transact(single, async (tx) => {
          // The transaction client of the whole Db has $queryRaw; the domain views leave it out.
          const level = await (tx as unknown as Pick<Db, '$queryRaw'>).$queryRaw<{ level: string }[]>`SELECT @@tx_isolation AS level`;
          const before = await tx.tenant.findUniqueOrThrow({ where: { id: 't-c' }, select: { name: true } });
          // Committed by another session between two reads of this transaction: REPEATABLE READ would keep showing
          // the first read's snapshot.
          await other.query("UPDATE Tenant SET name = 'changed meanwhile' WHERE id = 't-c'");
          const after = await tx.tenant.findUniqueOrThrow({ where: { id: 't-c' }, select: { name: true } });
          return { level: level[0]?.level, before: before.name, after: after.name };
        });
        expect(seen.level).toBe('READ-COMMITTED');
        expect(seen.before).not.toBe('changed meanwhile');
        expect(seen.after).toBe('changed meanwhile');
      } finally {
        await other.end();
      }
    });

    it('sets the level once per connection, not per transaction: BEGIN, the body and COMMIT are all a transaction sends', async () => {
      // Outside any transaction the session's level already is READ COMMITTED (the server's default is REPEATABLE READ).
      const level = await single.$queryRaw<{ level: string }[]>`SELECT @@SESSION.tx_isolation AS level`;
      expect(level[0]?.level).toBe('READ-COMMITTED');
      const start = await questions(single);
      await transact(single, (tx) => tx.tenant.findUnique({ where: { id: 't-a' }, select: { id: true } }));
      // SHOW (1) + BEGIN + SELECT + COMMIT; Prisma's isolationLevel option would add SET TRANSACTION ISOLATION LEVEL.
      expect((await questions(single)) - start).toBe(4);
    });

    it('still honours an isolation level asked for explicitly, for that transaction only', async () => {
      const level = (client: Db) => client.$queryRaw<{ level: string }[]>`SELECT @@tx_isolation AS level`.then((rows) => rows[0]?.level);
      const other = await openConnection(scratch.url);
      try {
        const [before, after] = await transact(
          single,
          async (tx) => {
            const first = await tx.tenant.findUniqueOrThrow({ where: { id: 't-c' }, select: { name: true } });
            await other.query("UPDATE Tenant SET name = 'changed again' WHERE id = 't-c'");
            const second = await tx.tenant.findUniqueOrThrow({ where: { id: 't-c' }, select: { name: true } });
            return [first.name, second.name];
          },
          { isolationLevel: 'RepeatableRead' },
        );
        expect(before).not.toBe('changed again');
        expect(after).toBe(before);
        expect(await level(single)).toBe('READ-COMMITTED');
      } finally {
        await other.end();
      }
    });
  });
});
