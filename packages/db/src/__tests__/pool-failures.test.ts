// Connections that fail while they open (issue 10): the connect timeout firing while the pool's init SQL is in flight
// (seen in vitest at load 40–60 as an unhandled ER_INITIAL_SQL_ERROR), or MySQL dropping the connection right then.
// Each must end as a failed query the platform reports as "database unavailable" (UPSTREAM_UNAVAILABLE, service
// mysql) — never as an unhandled rejection — and the same client must work again once MySQL answers. A proxy that reads the MySQL protocol stalls or resets each connection
// at a chosen statement of its opening.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, isDatabaseUnavailableError, type Db } from '../index.ts';
import { parseMysqlUrl } from '../url.ts';

type Action = 'pass' | 'stall' | 'reset';

interface MysqlProxy {
  url: string;
  /** Statements the proxy stalled or reset (a connection's first one of those only). */
  acted: string[];
  close(): Promise<void>;
}

const COM_QUERY = 0x03;

/**
 * Forwards MySQL connections to the test server; every COM_QUERY from the client is shown to `decide` first: `stall`
 * holds it and everything after it (the server never hears of it), `reset` resets both sides.
 */
async function startMysqlProxy(databaseUrl: string, decide: (sql: string) => Action): Promise<MysqlProxy> {
  const target = parseMysqlUrl(databaseUrl);
  const sockets = new Set<Socket>();
  const acted: string[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUIntLE(0, 3);
        if (pending.length < 4 + length) return;
        const packet = pending.subarray(0, 4 + length);
        pending = pending.subarray(4 + length);
        // A command starts a new sequence (sequence id 0); the handshake response (id 1) is not one.
        if (packet[3] === 0 && packet[4] === COM_QUERY) {
          const sql = packet.subarray(5).toString('utf8');
          const action = decide(sql);
          if (action !== 'pass') acted.push(sql);
          if (action === 'stall') {
            stalled = true;
            return;
          }
          if (action === 'reset') {
            client.resetAndDestroy();
            upstream.resetAndDestroy();
            return;
          }
        }
        upstream.write(packet);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    acted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface LogLine {
  level: 'warn' | 'info';
  message: string;
  details: Record<string, unknown>;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Lets rejections nobody handled be reported (Node reports them after the microtask queue drains). */
const nextTurns = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('createDb when connections fail while they open', () => {
  it.each([
    ['the connect timeout fires while the init SQL is in flight', 'stall' as const],
    ['MySQL drops the connection at the init SQL', 'reset' as const],
  ])('%s: the query fails as "database unavailable", nothing is left unhandled, and the client recovers', async (_name, action) => {
    let failing = true;
    const proxy = await startMysqlProxy(process.env.DATABASE_URL!, (sql) => (failing && /TRANSACTION ISOLATION/i.test(sql) ? action : 'pass'));
    const lines: LogLine[] = [];
    const logger = {
      warn: (details: object, message: string) => void lines.push({ level: 'warn', message, details: details as Record<string, unknown> }),
      info: (details: object, message: string) => void lines.push({ level: 'info', message, details: details as Record<string, unknown> }),
    };
    // acquireTimeoutMs leaves room for several attempts of 300 ms each; the pool gives up creating connections
    // (and emits 'error') 100 ms before it.
    let db: Db | undefined = createDb({ url: proxy.url, connectionLimit: 1, connectTimeoutMs: 300, acquireTimeoutMs: 1_500, logger });
    try {
      const error = await db.$queryRaw`SELECT 1 AS one`.then(() => null, (caught: unknown) => caught);
      expect(error).not.toBeNull();
      expect(String(error)).toMatch(/pool timeout: failed to retrieve a connection from pool/);
      expect(JSON.stringify(error)).toMatch(action === 'stall' ? /Connection timeout/ : /initial sql|socket|closed/i);
      expect(isDatabaseUnavailableError(error)).toBe(true);
      // Every connection the pool tried was stopped at its init SQL, more than once.
      expect(proxy.acted.length).toBeGreaterThanOrEqual(2);
      expect(proxy.acted.every((sql) => /TRANSACTION ISOLATION/i.test(sql))).toBe(true);
      // The pool gave up creating connections (its 'error', 100 ms before the acquire timeout), logged at warn; the
      // driver's rethrow of each failed opening went nowhere (without driver.ts: one unhandled ER_INITIAL_SQL_ERROR
      // per attempt).
      await expect.poll(() => lines.filter((line) => line.message === 'mysql pool cannot open connections').length).toBe(1);
      await nextTurns();
      expect(unhandled).toEqual([]);

      // MySQL answers again: the same client works, without a restart.
      failing = false;
      await expect(db.$queryRaw`SELECT 1 AS one`).resolves.toEqual([{ one: 1 }]);
      expect(lines.at(-1)?.message).toBe('mysql pool opens connections again');
      // Once per outage, however many attempts failed.
      expect(lines.filter((line) => line.message === 'mysql pool cannot open connections')).toHaveLength(1);
      await nextTurns();
      expect(unhandled).toEqual([]);
    } finally {
      await db.$disconnect().catch(() => undefined);
      db = undefined;
      await proxy.close();
    }
  });

  it('limits each statement with max_statement_time from the awaited init SQL', async () => {
    const db = createDb({ url: process.env.DATABASE_URL!, connectionLimit: 1, queryTimeoutMs: 1_500 });
    try {
      const rows = await db.$queryRaw<Array<{ limit: number }>>`SELECT @@SESSION.max_statement_time AS \`limit\``;
      expect(Number(rows[0]!.limit)).toBe(1.5);
    } finally {
      await db.$disconnect();
    }
  });
});
