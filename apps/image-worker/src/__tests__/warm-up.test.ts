import { createDb } from '@firefly/db';
import { recordingLogger } from '@firefly/logger/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { warmUpWorker } from '../warm-up.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

describe('image worker start-up warm-up', () => {
  const url = inject('databaseUrl');
  if (!url) throw new Error('no databaseUrl: run through vitest (tests/src/global-setup.ts creates the database)');
  const db = createDb({ url, connectionLimit: 4 });
  afterAll(() => db.$disconnect());

  it('opens the pool and runs every job statement once, leaving no job or image behind', async () => {
    const jobsBefore = await db.imageJob.count();
    const imagesBefore = await db.image.count();
    const { logger, said } = recordingLogger('image-worker-test');
    await warmUpWorker(db, { poolSize: 4, logger });
    // It got to the end (the rolled-back transaction is its normal path, not a failure).
    expect(said).toEqual([{ level: 'info', message: 'warmed up the pool and the job statements' }]);
    expect(await db.imageJob.count({ where: { id: { startsWith: 'warm-up-' } } })).toBe(0);
    expect(await db.image.count({ where: { id: { startsWith: 'warm-up-' } } })).toBe(0);
    expect(await db.imageJob.count()).toBe(jobsBefore);
    expect(await db.image.count()).toBe(imagesBefore);
    // The worker goes on to run jobs on the same client.
    expect(await db.imageJob.findUnique({ where: { id: 'warm-up-none' }, select: { id: true } })).toBeNull();
  });

  it('lets the worker start when the database cannot be reached, saying so', async () => {
    const unreachable = createDb({ url: 'mysql://root@127.0.0.1:1/firefly', connectionLimit: 2, connectTimeoutMs: 500, acquireTimeoutMs: 1_000 });
    const { logger, said } = recordingLogger('image-worker-test');
    try {
      await warmUpWorker(unreachable, { poolSize: 2, logger });
    } finally {
      await unreachable.$disconnect();
    }
    expect(said).toEqual([{ level: 'warn', message: 'warming up failed; starting anyway' }]);
  });
});
