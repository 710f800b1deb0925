// Connection errors of createRedis's clients and of their duplicates (subscribers, blocking readers, BullMQ's blocking
// connection): every one has an 'error' listener — without one ioredis prints "[ioredis] Unhandled error event" with
// a stack on every failed reconnection — and an outage is logged once per client, then its end.
import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import { closeRedis, createRedis, type Redis } from '../index.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface LogLine {
  level: string;
  msg: string;
  redis?: string;
  err?: Record<string, unknown>;
  failures?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Forwards `port` to the test Redis: Redis "comes back" on a port that refused connections until now. */
async function forward(port: number): Promise<{ close(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.on('error', () => upstream.destroy()).pipe(upstream).on('error', () => client.destroy()).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  // A safety net only: each step is an event that comes within a few reconnection attempts (≤ 2 s apart).
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => closeRedis(client)));
});

describe('createRedis connection errors', () => {
  it('are logged once per outage for a client and its duplicates, none left without a listener, and the end is logged', async () => {
    const lines: LogLine[] = [];
    const logger = createLogger({ service: 'redis-test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
    const port = await freePort();
    // Nothing listens on the port yet: every connection attempt is refused.
    const main = createRedis({ url: `redis://127.0.0.1:${port}`, name: 'main', logger, maxRetriesPerRequest: null });
    const subscriber = main.duplicate({ connectionName: 'subscriber' });
    const ofDuplicate = subscriber.duplicate();
    clients.push(main, subscriber, ofDuplicate);
    const names = ['main', 'subscriber', 'subscriber-duplicate'];
    const errors = new Map<Redis, number>();
    for (const client of clients) {
      // ioredis prints "Unhandled error event" exactly when a client has no 'error' listener of its own.
      expect(client.listenerCount('error')).toBe(1);
      client.on('error', () => errors.set(client, (errors.get(client) ?? 0) + 1));
    }

    // Several failed reconnections of every client, still one warning each.
    await until(() => clients.every((client) => (errors.get(client) ?? 0) >= 3), 'three failed connection attempts per client');
    const warnings = lines.filter((line) => line.msg === 'redis connection error');
    expect(warnings.map((line) => line.redis).sort()).toEqual(names);
    for (const warning of warnings) {
      expect(warning.level).toBe('warn');
      // The message and code only (pino's serializer adds an empty stack): no stack trace, no connection details.
      expect(warning.err).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/ECONNREFUSED/), stack: '' });
    }

    const redis = await forward(port);
    try {
      await until(() => lines.filter((line) => line.msg === 'redis connection restored').length === names.length, 'every client restored');
      const restored = lines.filter((line) => line.msg === 'redis connection restored');
      expect(restored.map((line) => line.redis).sort()).toEqual(names);
      for (const line of restored) expect(line.failures).toBeGreaterThanOrEqual(3);
      expect(await ofDuplicate.ping()).toBe('PONG');
      expect(lines.filter((line) => line.msg === 'redis connection error')).toHaveLength(names.length);
    } finally {
      await Promise.all(clients.splice(0).map((client) => closeRedis(client)));
      await redis.close();
    }
  });
});
