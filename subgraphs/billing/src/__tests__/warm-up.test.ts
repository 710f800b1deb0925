import { createDb } from '@firefly/db';
import { recordingLogger } from '@firefly/logger/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { warmUpBilling } from '../warm-up.ts';
import { openTestDb } from './helpers.ts';

describe('billing start-up warm-up', () => {
  const db = openTestDb({ connectionLimit: 4 });
  afterAll(() => db.$disconnect());

  it('opens the pool and runs the credit paths, leaving no account, hold or ledger entry behind', async () => {
    const { logger, said } = recordingLogger('billing-test');
    await warmUpBilling(db, { poolSize: 4, logger });
    // It got to the end (the rolled-back transaction is its normal path, not a failure).
    expect(said).toEqual([{ level: 'info', message: 'warmed up the pool and the credit paths' }]);
    const left = { userId: { startsWith: 'warm-up-' } };
    expect(await db.creditAccount.count({ where: left })).toBe(0);
    expect(await db.reservation.count({ where: left })).toBe(0);
    expect(await db.ledgerEntry.count({ where: left })).toBe(0);
    // The process goes on to serve normally on the same client.
    const answered = await db.$queryRaw<{ one: bigint }[]>`SELECT 1 AS one`;
    expect(Number(answered[0]?.one)).toBe(1);
  });

  it('lets the process start when the database cannot be reached, saying so', async () => {
    const unreachable = createDb({ url: 'mysql://root@127.0.0.1:1/firefly', connectionLimit: 2, connectTimeoutMs: 500, acquireTimeoutMs: 1_000 });
    const { logger, said } = recordingLogger('billing-test');
    try {
      await warmUpBilling(unreachable, { poolSize: 2, logger });
    } finally {
      await unreachable.$disconnect();
    }
    expect(said).toEqual([{ level: 'warn', message: 'warming up failed; starting anyway' }]);
  });
});
