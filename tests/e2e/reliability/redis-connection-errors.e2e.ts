// Redis dying under every process (issue 10): each process logs the outage through its logger — once per connection,
// then that it is back — and nothing prints ioredis's "[ioredis] Unhandled error event" (what a connection without
// an 'error' listener does on every failed reconnection: the settings and tenant subscribers, the stop-signal
// subscriber, stream readers, the token-stream writer, BullMQ's connections). The gateway, the four subgraphs and an
// image worker run as their own processes (src/main.ts, as in production) on a redis-server of the test's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { startOssSimulator, type OssSimulator } from '@firefly/oss-simulator';
import { startOwnRedis, type OwnRedis } from '../../src/own-redis.ts';
import { startProcess, type ManagedProcess } from '../../src/subscription-processes.ts';
import { startStack, type Stack } from '../../src/subscription-stack.ts';

let redis: OwnRedis;
let dashscope: DashScopeSimulator;
let oss: OssSimulator;
let stack: Stack;
let worker: ManagedProcess;

beforeAll(async () => {
  redis = await startOwnRedis();
  dashscope = await startDashScopeSimulator({});
  oss = await startOssSimulator();
  const external = { REDIS_URL: redis.url, DASHSCOPE_BASE_URL: dashscope.baseUrl, DASHSCOPE_API_KEY: dashscope.apiKey, OSS_ENDPOINT: oss.localUrl };
  stack = await startStack({ services: ['user', 'billing', 'conversation', 'image'], env: external });
  worker = await startProcess('image-worker', 'apps/image-worker/src/main.ts', { ...stack.env, IMAGE_WORKER_PORT: '0', BILLING_SUBGRAPH_URL: stack.services.billing![0]!.url });
}, 600_000);

afterAll(async () => {
  await redis?.start();
  await worker?.stop(5_000);
  await stack?.stop();
  await redis?.stop();
  await dashscope?.close();
  await oss?.close();
});

const UNHANDLED = 'Unhandled error event';

describe('Redis dies under every process', () => {
  it('each logs the outage once per connection and its end, and none prints an unhandled ioredis error', { timeout: 300_000 }, async () => {
    const processes = [...stack.gateways, ...Object.values(stack.services).flat(), worker];
    expect(processes.map((p) => p.name).sort()).toEqual(['billing', 'conversation', 'gateway-1', 'image', 'image-worker', 'user']);
    const since = new Map(processes.map((p) => [p, p.logs.length]));
    const linesSince = (p: ManagedProcess) => p.logs.slice(since.get(p));

    await redis.stop();
    // Every process notices: its connections fail to reconnect (refused), and say so.
    await Promise.all(processes.map((p) => p.waitForLog((line) => line.msg === 'redis connection error' && since.get(p)! <= p.logs.indexOf(line), 60_000)));
    // ioredis keeps retrying (at most every 2 s): let every connection of every process fail a few more times.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await redis.start();
    // Each connection that logged the outage logs its end (ready again: subscribers resubscribed, readers reading).
    await Promise.all(
      processes.map((p) =>
        p.waitForLog(() => {
          const lines = linesSince(p);
          const down = new Set(lines.filter((line) => line.msg === 'redis connection error').map((line) => line.redis));
          const back = new Set(lines.filter((line) => line.msg === 'redis connection restored').map((line) => line.redis));
          return [...down].every((name) => back.has(name));
        }, 120_000),
      ),
    );

    for (const p of processes) {
      const lines = linesSince(p);
      const down = lines.filter((line) => line.msg === 'redis connection error');
      // One warning per connection for the whole outage, however many reconnections failed.
      expect(new Set(down.map((line) => line.redis)).size, `${p.name}: ${JSON.stringify(down)}`).toBe(down.length);
      expect(down.every((line) => line.level === 'warn'), p.name).toBe(true);
      expect(JSON.stringify(down), p.name).not.toMatch(/password|secret/i);
      const output = p.stderr.join('') + p.logs.map((line) => JSON.stringify(line)).join('\n');
      expect(output.includes(UNHANDLED), `${p.name}: ${output.slice(Math.max(0, output.indexOf(UNHANDLED) - 200), output.indexOf(UNHANDLED) + 300)}`).toBe(false);
    }
  });
});
