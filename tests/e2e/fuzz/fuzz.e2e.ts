// The fuzz suite (issue 10): generated GraphQL requests (random selections from the supergraph, wrong types, huge
// and odd Unicode strings, deep nesting, broken documents and variables) and generated graphql-transport-ws frames
// against the platform as separate processes (tests/src/chaos.ts). Must hold: no HTTP 5xx, no INTERNAL_SERVER_ERROR,
// no socket closed with 1011 (internal error), no process crashed, and the gateway's heap back near its baseline —
// and, after a second round as large, no higher than after the first (what stays is bounded caches, not a leak).
//
// `npm test` runs a few hundred of each; `npm run fuzz` (FUZZ_LONG=1) runs 10,000 of each, twice (the second round is
// the leak check). FUZZ_SEED reproduces a run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startChaosPlatform, type ChaosPlatform, type ChaosUser } from '../../src/chaos.ts';
import { fuzzFrames, fuzzRequests, loadSupergraphSchema, type FuzzFrame, type FuzzRequest } from '../../src/fuzz.ts';
import { openRaw } from '../../src/subscription-client.ts';

const LONG = process.env.FUZZ_LONG === '1';
const REQUESTS = LONG ? 10_000 : 300;
const FRAMES = LONG ? 10_000 : 300;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 8;

let platform: ChaosPlatform;
let user: ChaosUser;
const schema = loadSupergraphSchema();

beforeAll(async () => {
  platform = await startChaosPlatform({
    minDeltas: 5,
    simulatorTokenDelayMs: 5,
    gatewayNodeArgs: ['--expose-gc', '--import', fileURLToPath(new URL('../../src/gc-on-signal.mjs', import.meta.url))],
  });
  user = await platform.createUser(1_000);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

/** The gateway's heap in use after a full collection (prom-client's default metric), or its RSS without the metric. */
async function gatewayHeapBytes(): Promise<number> {
  platform.processes.gateway.child.kill('SIGUSR2');
  await sleep(500);
  const text = await fetch(new URL('/metrics', platform.gatewayUrl)).then((r) => (r.ok ? r.text() : ''), () => '');
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
  if (line) return Number(line.split(' ').at(-1));
  const status = readFileSync(`/proc/${platform.processes.gateway.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1_024;
}

/** Some ordinary traffic, so the heap measured after idling has seen a few collections. */
async function ordinaryTraffic(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await platform.request('query { me { id } chatModels { id } }', { token: user.token });
}

function crashed(): string[] {
  return Object.values(platform.processes)
    .filter((p) => p.child.exitCode !== null || p.child.signalCode !== null)
    .map((p) => `${p.name} (${p.child.exitCode ?? p.child.signalCode})`);
}

async function pool<T>(items: T[], worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await worker(items[next++]!);
    }),
  );
}

/** One round of generated HTTP requests: the answers' statuses, and the requests that got a 5xx or an INTERNAL. */
async function requestRound(seed: number): Promise<{ statuses: Map<number, number>; failures: Array<{ request: string; status: number; body: string }> }> {
  const requests = fc.sample(fuzzRequests(schema), { numRuns: REQUESTS, seed });
  const statuses = new Map<number, number>();
  const failures: Array<{ request: string; status: number; body: string }> = [];
  await pool(requests, async (request: FuzzRequest) => {
    const signed = request.query !== undefined && String(request.query).length % 2 === 0;
    let status: number;
    let body = '';
    try {
      const response = await fetch(platform.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signed ? { authorization: `Bearer ${user.token}` } : {}) },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(60_000),
      });
      status = response.status;
      body = await response.text();
    } catch (error) {
      status = 0;
      // fetch's own message says nothing ("fetch failed"): the socket error is its cause.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      body = `${String(error)}${cause ? ` (cause: ${cause.code ?? ''} ${cause.message ?? ''})` : ''}`;
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status >= 500 || status === 0 || body.includes('INTERNAL_SERVER_ERROR')) {
      failures.push({ request: JSON.stringify(request).slice(0, 500), status, body: body.slice(0, 500) });
    }
  });
  console.log(`[fuzz] requests: ${REQUESTS}, seed ${seed}, statuses ${JSON.stringify(Object.fromEntries(statuses))}, failures ${failures.length}`);
  if (failures.length > 0) console.log(`[fuzz] first failures: ${JSON.stringify(failures.slice(0, 5), null, 1)}`);
  return { statuses, failures };
}

/** One round of generated graphql-ws frames, 15 a socket: how many sockets closed with which code; 1011/4500 logged. */
async function frameRound(seed: number, round: number): Promise<{ closeCodes: Map<number, number>; internalCloses: number }> {
  const frames = fc.sample(fuzzFrames(schema), { numRuns: FRAMES, seed });
  const closeCodes = new Map<number, number>();
  let sockets = 0;
  let index = 0;
  const wsUrl = platform.gatewayUrl.replace(/^http/, 'ws');
  // From a loopback address of the round's own: the request rounds spend 127.0.0.1's anonymous rate limit (their
  // 429s), under which the gateway refuses WebSocket upgrades too — the frames would never be sent.
  const localAddress = `127.0.0.${2 + round}`;
  await pool(
    Array.from({ length: Math.ceil(FRAMES / 15) }, (_, i) => i),
    async (socketNumber) => {
      const batch = frames.slice(index, index + 15);
      index += 15;
      if (batch.length === 0) return;
      sockets += 1;
      let raw;
      try {
        raw = await openRaw(wsUrl, { localAddress });
      } catch {
        closeCodes.set(-1, (closeCodes.get(-1) ?? 0) + 1);
        return;
      }
      if (socketNumber % 3 !== 0) raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } });
      for (const frame of batch as FuzzFrame[]) {
        if (raw.socket.readyState !== raw.socket.OPEN) break;
        if (frame.kind === 'text') raw.sendRaw(frame.data);
        else raw.sendRaw(frame.data, { binary: true });
      }
      await sleep(100);
      if (raw.socket.readyState === raw.socket.OPEN) raw.socket.close(1000);
      const closed = await Promise.race([raw.closed, sleep(5_000).then(() => ({ code: -2, reason: 'no close' }))]);
      closeCodes.set(closed.code, (closeCodes.get(closed.code) ?? 0) + 1);
      if (closed.code === 1011 || closed.code === 4500) {
        console.log(`[fuzz] socket closed ${closed.code} (${closed.reason}) after: ${JSON.stringify(batch.map((f) => (f.kind === 'text' ? f.data.slice(0, 300) : `<${f.data.length} bytes>`)))}`);
      }
    },
  );
  console.log(`[fuzz] frames: ${FRAMES} on ${sockets} sockets, seed ${seed}, close codes ${JSON.stringify(Object.fromEntries(closeCodes))}`);
  // Every socket of the round was opened and got its frames (-1: refused at the upgrade, nothing sent).
  expect(closeCodes.get(-1) ?? 0).toBe(0);
  // 1011 (WebSocket internal error) and 4500 (graphql-ws internal server error) are the sockets' 5xx.
  const internalCloses = (closeCodes.get(1011) ?? 0) + (closeCodes.get(4500) ?? 0);
  if (internalCloses > 0) {
    const logged = platform.processes.gateway.logs.filter((line) => Number(line.level) >= 50 || line.level === 'error');
    console.log(`[fuzz] gateway errors: ${JSON.stringify(logged.slice(-5)).slice(0, 3000)}`);
  }
  return { closeCodes, internalCloses };
}

/** The gateway's heap after some ordinary traffic and a full collection: the first reading at or under `bound`, else the last of five. */
async function settledHeap(bound: number): Promise<number> {
  await ordinaryTraffic(50);
  let heap = 0;
  for (let i = 0; i < 5; i++) {
    await sleep(1_000);
    heap = await gatewayHeapBytes();
    if (heap <= bound) break;
  }
  return heap;
}

const MiB = 1_048_576;

describe.sequential('fuzz', () => {
  let baseline = 0;
  let afterFirstRound = 0;

  it(`${REQUESTS} generated GraphQL requests: no 5xx, no INTERNAL_SERVER_ERROR, no crash (seed ${SEED})`, async () => {
    await ordinaryTraffic(100);
    await sleep(2_000);
    baseline = await gatewayHeapBytes();
    const { failures } = await requestRound(SEED);
    expect(crashed()).toEqual([]);
    expect(failures).toEqual([]);
  }, LONG ? 1_800_000 : 300_000);

  it(`${FRAMES} generated graphql-ws frames: no internal-error close (1011/4500), no crash, the gateway heap back near its baseline`, async () => {
    const { internalCloses } = await frameRound(SEED + 1, 0);
    // The gateway still serves, nothing crashed.
    const check = await platform.request('query { me { id } }', { token: user.token });
    expect(check.status).toBe(200);
    expect(check.body?.data?.me?.id).toBe(user.id);
    expect(crashed()).toEqual([]);
    expect(internalCloses).toBe(0);

    // Memory: after a full collection the heap is back near where it started (closed sockets and finished
    // requests retain nothing; what stays is the gateway's bounded caches of documents and plans).
    const bound = baseline * 1.25 + 16 * MiB;
    afterFirstRound = await settledHeap(bound);
    console.log(`[fuzz] gateway heap: baseline ${(baseline / MiB).toFixed(1)} MiB, after ${(afterFirstRound / MiB).toFixed(1)} MiB`);
    expect(afterFirstRound).toBeLessThanOrEqual(bound);
  }, LONG ? 1_800_000 : 300_000);

  // Only in the long run: a few hundred documents do not fill the caches, so a short second round still grows them.
  it.runIf(LONG)(`a second round of as many requests and frames leaves the gateway heap where the first left it (caches, not a leak)`, async () => {
    expect(afterFirstRound, 'the heap after the first round (previous test)').toBeGreaterThan(0);
    // What the first round left above the baseline is either the bounded caches filling (then a second round of new
    // documents adds nothing lasting) or retained per request (then it grows again by about as much).
    const { failures } = await requestRound(SEED + 2);
    const { internalCloses } = await frameRound(SEED + 3, 1);
    expect(crashed()).toEqual([]);
    expect(failures).toEqual([]);
    expect(internalCloses).toBe(0);
    const bound = afterFirstRound + 8 * MiB;
    const afterSecondRound = await settledHeap(bound);
    console.log(`[fuzz] gateway heap after a second round: ${(afterSecondRound / MiB).toFixed(1)} MiB (after the first ${(afterFirstRound / MiB).toFixed(1)}, baseline ${(baseline / MiB).toFixed(1)})`);
    expect(afterSecondRound).toBeLessThanOrEqual(bound);
  }, LONG ? 1_800_000 : 300_000);
});
