import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, isDatabaseUnavailableError, type Db } from '../index.ts';
import { createQueryRecorder, createScratchDatabase, type ScratchDatabase } from '../testing.ts';

describe('createDb', () => {
  let scratch: ScratchDatabase;
  let db: Db;
  const recorder = createQueryRecorder();

  beforeAll(async () => {
    scratch = await createScratchDatabase('db_client');
    db = createDb({ url: scratch.url, connectionLimit: 2, onQuery: recorder.onQuery });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it('talks to MariaDB through the driver adapter', async () => {
    const tenant = await db.tenant.findUnique({ where: { id: 'default' } });
    expect(tenant).toMatchObject({ id: 'default', slug: 'default' });
  });

  it('reports every SQL statement to onQuery, so tests can count queries', async () => {
    recorder.reset();
    await db.tenant.findMany();
    await db.chatModel.count();
    expect(recorder.count()).toBe(2);
    expect(recorder.queries[0]).toMatch(/^SELECT .* FROM `Tenant`/);
  });

  it('reports statements run inside interactive transactions', async () => {
    recorder.reset();
    await db.$transaction(async (tx) => {
      await tx.tenant.findMany();
      await tx.user.findMany({ where: { tenantId: 'default' } });
    });
    expect(recorder.count()).toBe(2);
  });

  it('stores and returns DateTime values in UTC', async () => {
    const at = new Date('2030-01-02T03:04:05.678Z');
    const created = await db.tenant.create({ data: { id: 'utc', slug: 'utc', name: 'UTC', createdAt: at } });
    expect(created.createdAt.toISOString()).toBe(at.toISOString());
    const rows = await db.$queryRaw<{ createdAt: Date }[]>`SELECT createdAt FROM Tenant WHERE id = 'utc'`;
    expect(rows[0]?.createdAt.toISOString()).toBe(at.toISOString());
  });

  it('sends a statement on a connection idle for a second straight away, without pinging it first', async () => {
    // One connection, so both statements run on it; its own counter of admin commands counts the pool's pings.
    const single = createDb({ url: scratch.url, connectionLimit: 1 });
    try {
      const pings = async () => Number((await single.$queryRawUnsafe<Array<{ Value: string }>>("SHOW SESSION STATUS LIKE 'Com_admin_commands'"))[0]!.Value);
      const before = await pings();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await pings()).toBe(before);
    } finally {
      await single.$disconnect();
    }
  });

  it('refuses a URL without a database and a bad connection limit', () => {
    expect(() => createDb({ url: 'mysql://root@127.0.0.1:3306' })).toThrow(/must name a database/);
    expect(() => createDb({ url: 'mysql://root@127.0.0.1:3306/x?connection_limit=zero' })).toThrow(/connection_limit/);
    expect(() => createDb({ url: 'postgres://root@127.0.0.1/x' })).toThrow(/protocol must be mysql/);
  });
});

describe('createDb when MySQL does not answer', () => {
  it('fails a query (it does not hang) against a server that accepts connections and never says a word', async () => {
    // A black hole: TCP connects, the MySQL handshake never comes.
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const db = createDb({ url: `mysql://root@127.0.0.1:${port}/nowhere`, connectionLimit: 1, connectTimeoutMs: 200, acquireTimeoutMs: 500 });
    try {
      const error = await db.tenant.findMany().then(() => null, (caught: unknown) => caught);
      // The driver's pool timeout (45028), after our 500 ms rather than its default 10 s, caused by our 200 ms
      // connect timeout: recognised as "the database is unavailable" (UPSTREAM_UNAVAILABLE), not a bug.
      expect(String(error)).toMatch(/pool timeout: failed to retrieve a connection from pool after \d+ms/);
      expect(Number(/after (\d+)ms/.exec(String(error))?.[1])).toBeLessThan(10_000);
      expect(JSON.stringify(error)).toMatch(/Connection timeout: failed to create socket/);
      expect(isDatabaseUnavailableError(error)).toBe(true);
      expect(isDatabaseUnavailableError(new Error('a bug'))).toBe(false);
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      await db.$disconnect().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses non-positive timeouts', () => {
    expect(() => createDb({ url: 'mysql://root@127.0.0.1:3306/x', acquireTimeoutMs: 0 })).toThrow(/acquireTimeoutMs/);
  });
});
