// A redis-server of the test's own on a spare port, without persistence: a test can stop it (the port refuses
// connections, as when Redis crashed), start it again empty (a restart loses every key, like a crashed cache node),
// or make it stop answering while the connections stay open (`CLIENT PAUSE`).
import type { ChildProcess } from 'node:child_process';
import { closeRedis, createRedis, Redis } from '@firefly/redis';
import { freePort, signalGroup, spawnChild } from './processes.ts';

export interface OwnRedis {
  url: string;
  /** Starts it again (empty) after `stop` (nothing when it runs); resolves when it answers PING. */
  start(): Promise<void>;
  /** SIGKILL, then start again (every key lost). */
  restart(): Promise<void>;
  /** SIGKILL; resolves when the process is gone. */
  stop(): Promise<void>;
  /**
   * `CLIENT PAUSE ms ALL`: every client's commands wait unanswered for `ms`, their connections stay open — a Redis
   * that stalls rather than goes away. (Redis 7.0 holds a CLIENT UNPAUSE sent meanwhile too: the pause runs its course.)
   */
  pause(ms: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = async () => {
    if (running()) return;
    child = spawnChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = createRedis({ url, name: 'own-redis-probe' });
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.ping();
          return;
        } catch (error) {
          if (i > 100) throw error;
          await sleep(50);
        }
      }
    } finally {
      await closeRedis(probe).catch(() => undefined);
    }
  };
  const kill = async () => {
    const current = child;
    if (!current || !running()) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    signalGroup(current, 'SIGKILL');
    await exited;
  };
  /** One command on a connection of its own. */
  const admin = async (...args: string[]) => {
    const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    // connect() rejects with the cause; without a listener ioredis would also print "Unhandled error event".
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.call(args[0]!, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  };
  await start();
  return {
    url,
    start,
    async restart() {
      await kill();
      await start();
    },
    stop: kill,
    pause: (ms) => admin('CLIENT', 'PAUSE', String(ms), 'ALL'),
  };
}
