/**
 * `npm run bench -- --streams` (or `tsx tests/bench/streams.ts`): token streaming through the gateway.
 *
 * Separate processes for the gateway and the user, billing and conversation subgraphs (tests/src/subscription-stack.ts),
 * a scratch database, this run's Redis prefix, and DashScope simulators with a fixed inter-token delay (their own
 * process, tests/src/subscription-simulators-main.ts). Between
 * the conversation subgraph and the simulator sits a pass-through proxy in this process that timestamps every SSE
 * event as it leaves the simulator, on the same clock as the clients here; each stream is tagged by a marker in its
 * prompt. So for every token: latency = arrival at the client − emission by the simulator.
 *
 *   (a) one stream at a time: time to first token and per-token latency through gateway + subgraph versus reading
 *       the simulator directly (the DashScope client of packages/dashscope through the same proxy), p50/p99;
 *   (b) STREAMS_CONCURRENT (500) concurrent streams: tokens lost (must be 0), per-token latency p50/p99, the most
 *       streams open at once, and the gateway's memory (RSS and heap, before/peak/after).
 *
 * The concurrent phase also reports the machine during it (/proc, as `npm run bench` does): each platform process's CPU
 * per token, the share of the CPU taken by processes outside the bench (NOISY past BENCH_MAX_FOREIGN_CPU, 0.05) and
 * the load average before and after.
 *
 * STREAMS_CONVERSATION_REPLICAS (1) conversation subgraph processes serve it, behind a round-robin balancer of its own
 * process (tests/src/balancer-main.ts) when more than one: the gateway knows one URL per subgraph, as it would behind
 * a load balancer in production. STREAMS_GENERATION_CAPACITY (each replica's GENERATION_CAPACITY; default: all the
 * concurrent streams, so the cap itself refuses nothing) and STREAMS_MAX_LOOP_DELAY_MS (GENERATION_MAX_LOOP_DELAY_MS,
 * default 1000) decide when a replica refuses a start with RATE_LIMITED instead of taking it on late.
 *
 * Writes tests/bench/results/streams-<timestamp>.json. Env: STREAMS_SEQUENTIAL (30), STREAMS_CONCURRENT (500),
 * STREAMS_USERS (100), STREAMS_TOKEN_DELAY_MS (30), STREAMS_TOKEN_DELAY_MS_CONCURRENT (CONCURRENT / 2.5 ms, at least
 * 200), STREAMS_DELTAS_SEQUENTIAL (40), STREAMS_DELTAS_CONCURRENT (enough to outlast the ramp by 20 s, at least 150),
 * STREAMS_RAMP_STEP_MS (50: one new stream every 50 ms), STREAMS_LOG_DIR (every process's log lines, at the end).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CREDENTIAL_PARAM, createCredentialSigner } from '@firefly/auth';
import { createDashScopeClient, type DashScopeClient } from '@firefly/dashscope';
import { createDb } from '@firefly/db';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { cpuMsOrZero, loadAverage, machineCpuMs, pidsNamed } from './process-cpu.ts';
import { collect, connectClient, type TestClient } from '../src/subscription-client.ts';
import { createChatUser, type ChatUser } from '../src/subscription-chat.ts';
import { readMetric, startProcess, type ManagedProcess } from '../src/subscription-processes.ts';
import { startStack, type Stack } from '../src/subscription-stack.ts';

const SEQUENTIAL = Number(process.env.STREAMS_SEQUENTIAL ?? 30);
const CONCURRENT = Number(process.env.STREAMS_CONCURRENT ?? 500);
const USERS = Number(process.env.STREAMS_USERS ?? 100);
const TOKEN_DELAY_MS = Number(process.env.STREAMS_TOKEN_DELAY_MS ?? 30);
/**
 * The concurrent streams start one every this many ms. sendMessage (several MySQL writes and a credit reservation
 * in billing) is the expensive part on a small machine, not the stream: about 20 per second here.
 */
const RAMP_STEP_MS = Number(process.env.STREAMS_RAMP_STEP_MS ?? 50);
/**
 * Inter-token delay of the concurrent phase. The simulator is single-threaded and tops out near 3,000 events/s on
 * this 2-vCPU machine, so 500 streams at 30 ms (16,700 tokens/s) would measure the load generator, not the gateway:
 * the default keeps every stream open at once under 2,500 tokens/s (200 ms for 500 streams, 800 ms for 2,000).
 */
const TOKEN_DELAY_MS_CONCURRENT = Number(process.env.STREAMS_TOKEN_DELAY_MS_CONCURRENT ?? Math.max(200, Math.ceil(CONCURRENT / 2.5)));
const DELTAS_SEQUENTIAL = Number(process.env.STREAMS_DELTAS_SEQUENTIAL ?? 40);
/**
 * Deltas per concurrent answer. The default makes an answer outlast the whole ramp by 20 s, so that every stream is
 * open at the same time for a while (`maxOpenAtOnce` = CONCURRENT): 150 for 500 or 2,000 streams.
 */
const DELTAS_CONCURRENT = Number(process.env.STREAMS_DELTAS_CONCURRENT ?? Math.max(150, Math.ceil((CONCURRENT * RAMP_STEP_MS + 20_000) / TOKEN_DELAY_MS_CONCURRENT)));
const REPLICAS = Math.max(1, Number(process.env.STREAMS_CONVERSATION_REPLICAS ?? 1));
const GENERATION_CAPACITY = Number(process.env.STREAMS_GENERATION_CAPACITY ?? CONCURRENT);
const MAX_LOOP_DELAY_MS = Number(process.env.STREAMS_MAX_LOOP_DELAY_MS ?? 1_000);
/** A phase in which processes outside the bench used more than this share of the machine's CPU is marked NOISY. */
const MAX_FOREIGN = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.05);
/** Every this many concurrent streams, one is also read straight from the conversation subgraph (see DirectTap). */
const TAP_EVERY = 25;

const STREAM = /* GraphQL */ `
  subscription Bench($messageId: ID!) { messageStream(messageId: $messageId) { seq delta done message { content status } } }
`;

interface Emission {
  at: number;
  /** Answer length (UTF-16 units) once this event is out. */
  cumulative: number;
}

/**
 * Pass-through HTTP proxy in front of the simulators: forwards each chunk at once, then records when every SSE
 * content event went out, per marker (`bench-a-<n>` → the short-answer simulator, `bench-b-<n>` → the long one).
 */
async function startTimingProxy(targets: { a: string; b: string }) {
  const emissions = new Map<string, Emission[]>();
  /** When the request for each marker reached the proxy (the upstream request had started). */
  const requested = new Map<string, number>();
  const agent = new Agent({ keepAlive: true, maxSockets: 2_000 });
  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(body);
      const marker = /bench-[ab]-\d+/.exec(raw.toString('utf8'))?.[0];
      if (marker && !requested.has(marker)) requested.set(marker, performance.now());
      const target = new URL(marker?.startsWith('bench-b') ? targets.b : targets.a);
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent },
        (ures: IncomingMessage) => {
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          const record = marker ? (emissions.get(marker) ?? emissions.set(marker, []).get(marker)!) : undefined;
          const decoder = new StringDecoder('utf8');
          let buffer = '';
          let cumulative = 0;
          ures.on('data', (chunk: Buffer) => {
            res.write(chunk);
            if (!record) return;
            const at = performance.now();
            buffer += decoder.write(chunk);
            let end: number;
            while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)![0].length + end);
              const data = event.split(/\r?\n/).find((line) => line.startsWith('data:'));
              if (!data) continue;
              try {
                const content = (JSON.parse(data.slice(5)) as { output?: { choices?: Array<{ message?: { content?: string } }> } }).output?.choices?.[0]?.message?.content ?? '';
                if (content === '') continue;
                cumulative += content.length;
                record.push({ at, cumulative });
              } catch {
                // Not a JSON event (e.g. an error frame): nothing to time.
              }
            }
          });
          ures.on('end', () => res.end());
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    emissions,
    requested,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Proxy = Awaited<ReturnType<typeof startTimingProxy>>;

/** Latency of each received delta: arrival − emission of the simulator event that completed that much text. */
function tokenLatencies(arrivals: Array<{ at: number; cumulative: number }>, emitted: Emission[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const arrival of arrivals) {
    while (j < emitted.length && emitted[j]!.cumulative < arrival.cumulative) j++;
    const emission = emitted[j];
    if (emission) out.push(arrival.at - emission.at);
  }
  return out;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const summary = (values: number[]) => ({
  samples: values.length,
  p50Ms: round(percentile(values, 50)),
  p99Ms: round(percentile(values, 99)),
  // Not Math.max(...values): hundreds of thousands of arguments overflow the stack.
  maxMs: round(values.reduce((max, v) => (v > max ? v : max), Number.NEGATIVE_INFINITY)),
});
const round = (n: number) => Math.round(n * 100) / 100;

/** Failures by reason (the stream's marker left out), most frequent first. */
function countReasons(failures: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const failure of failures) {
    const reason = failure.replace(/bench-[ab]-\d+/g, '<stream>').slice(0, 200);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, 10));
}

function phasesP50(runs: Array<{ phases: StreamRun['phases'] }>): StreamRun['phases'] {
  const p50 = (pick: (phases: StreamRun['phases']) => number) => round(percentile(runs.map((r) => pick(r.phases)).filter((v) => !Number.isNaN(v)), 50));
  return {
    sendMessageMs: p50((p) => p.sendMessageMs),
    upstreamStartMs: p50((p) => p.upstreamStartMs),
    upstreamFirstTokenMs: p50((p) => p.upstreamFirstTokenMs),
    firstTokenDeliveryMs: p50((p) => p.firstTokenDeliveryMs),
  };
}

interface StreamRun {
  ttftMs: number;
  latencies: number[];
  /** Seq gaps or text missing versus what the simulator emitted (must be 0). */
  lostDeltas: number;
  lostChars: number;
  openedAt: number;
  closedAt: number;
  /**
   * Where the time to the first token went: sendMessage's answer; the DashScope request reaching the simulator; the
   * simulator's first token after that; that token reaching the client.
   */
  phases: { sendMessageMs: number; upstreamStartMs: number; upstreamFirstTokenMs: number; firstTokenDeliveryMs: number };
  /** Sampled streams only: the same tokens read straight from the conversation subgraph at the same time. */
  direct?: { latencies: number[]; gatewayShare: number[] };
}

interface DirectTap {
  /** The conversation subgraph's graphql-ws URL. */
  url: string;
  secret: string;
}

/** createConversation or sendMessage failed: no stream was started (not a streaming failure). */
class StartFailed extends Error {}

/** sendMessage through the gateway, then messageStream through the gateway; timings per token. */
async function streamThroughGateway(stack: Stack, user: ChatUser, client: TestClient, marker: string, proxy: Proxy, tap?: DirectTap): Promise<StreamRun> {
  const created = await stack.request('mutation { createConversation(input: {}) { id } }', { token: user.token });
  if (created.body.errors) throw new StartFailed(`createConversation: ${JSON.stringify(created.body.errors)}`);
  const conversationId = created.body.data.createConversation.id as string;
  const started = performance.now();
  const sent = await stack.request('mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { assistantMessage { id } } }', {
    token: user.token,
    variables: { input: { conversationId, content: `${marker} Tell me a long story about fireflies over a summer lake` } },
  });
  if (sent.body.errors) throw new StartFailed(`sendMessage: ${JSON.stringify(sent.body.errors)}`);
  const messageId = sent.body.data.sendMessage.assistantMessage.id as string;
  const answered = performance.now();
  // The tap reads the same message from the subgraph itself, with the credential the gateway would send, so the
  // gateway's own share of the latency can be told apart from the rest of the pipeline under the same load.
  let tapClient: WsClient | undefined;
  let tapped: ReturnType<typeof collect<{ messageStream: { seq: number; delta: string } }>> | undefined;
  if (tap) {
    const sign = createCredentialSigner({ secret: tap.secret, issuer: 'gateway' });
    const identity = { kind: 'user' as const, tenantId: user.tenantId, userId: user.id, roles: ['USER' as const], sessionId: user.sessionId, requestId: randomUUID() };
    tapClient = createClient({ url: tap.url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: async () => ({ [CREDENTIAL_PARAM]: await sign(identity) }) });
    tapped = collect(tapClient, STREAM, { messageId });
  }
  const sub = collect<{ messageStream: { seq: number; delta: string; done: boolean; message: { content: string; status: string } | null } }>(client.client, STREAM, { messageId });
  const outcome = await sub.outcome;
  if (tapped) await tapped.outcome;
  await tapClient?.dispose();
  if (outcome.kind !== 'complete') throw new Error(`stream ${marker} ended with ${describeOutcome(outcome)}`);
  const events = sub.results.map((r) => ({ ...r.data!.messageStream, at: r.receivedAt }));
  let cumulative = 0;
  const arrivals: Array<{ at: number; cumulative: number }> = [];
  let gaps = 0;
  events.forEach((event, i) => {
    if (event.seq !== i + 1) gaps++;
    if (event.delta === '') return;
    cumulative += event.delta.length;
    arrivals.push({ at: event.at, cumulative });
  });
  const emitted = proxy.emissions.get(marker) ?? [];
  const final = events.at(-1);
  const complete = final?.done === true;
  // Whole answer present: no seq gap, the `done` event arrived, the deltas add up to the stored message, and
  // nothing the simulator emitted is missing.
  const mismatch = complete && final.message?.content !== events.map((e) => e.delta).join('') ? 1 : 0;
  const lostChars = Math.max(0, (emitted.at(-1)?.cumulative ?? 0) - cumulative);
  let direct: StreamRun['direct'];
  if (tapped) {
    const atBySeq = new Map(tapped.results.map((r) => [r.data!.messageStream.seq, r.receivedAt]));
    let tapCumulative = 0;
    const tapArrivals: Array<{ at: number; cumulative: number }> = [];
    for (const r of tapped.results) {
      if (r.data!.messageStream.delta === '') continue;
      tapCumulative += r.data!.messageStream.delta.length;
      tapArrivals.push({ at: r.receivedAt, cumulative: tapCumulative });
    }
    direct = {
      latencies: tokenLatencies(tapArrivals, emitted),
      gatewayShare: events.filter((e) => e.delta !== '' && atBySeq.has(e.seq)).map((e) => e.at - atBySeq.get(e.seq)!),
    };
  }
  const requestedAt = proxy.requested.get(marker) ?? Number.NaN;
  return {
    ...(direct ? { direct } : {}),
    ttftMs: (arrivals[0]?.at ?? Number.NaN) - started,
    phases: {
      sendMessageMs: answered - started,
      upstreamStartMs: requestedAt - started,
      upstreamFirstTokenMs: (emitted[0]?.at ?? Number.NaN) - requestedAt,
      firstTokenDeliveryMs: (arrivals[0]?.at ?? Number.NaN) - (emitted[0]?.at ?? Number.NaN),
    },
    latencies: tokenLatencies(arrivals, emitted),
    lostDeltas: gaps + (complete ? 0 : 1) + mismatch,
    lostChars,
    openedAt: arrivals[0]?.at ?? Number.NaN,
    closedAt: final?.at ?? Number.NaN,
  };
}

/** A failed outcome, readable: graphql-ws hands a closed socket's CloseEvent (code and reason are getters). */
function describeOutcome(outcome: { kind: string; error?: unknown }): string {
  const error = outcome.error as { code?: unknown; reason?: unknown; message?: unknown } | undefined;
  if (error && !Array.isArray(error) && typeof error === 'object' && typeof error.code === 'number') {
    return `the client socket closing (code ${error.code}, reason ${JSON.stringify(String(error.reason ?? ''))})`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  // ws's ErrorEvent (e.g. the upgrade refused: "Unexpected server response: 429"): message is a getter too.
  if (error && typeof error === 'object' && typeof error.message === 'string') return `the client socket failing (${error.message})`;
  return JSON.stringify(outcome);
}

/**
 * The same answer read straight from the simulator (through the same proxy) with our DashScope client — one client
 * for the whole run, so its requests go out on a connection already open, as the conversation subgraph's do.
 */
async function streamDirect(client: DashScopeClient, proxy: Proxy, marker: string): Promise<{ ttftMs: number; latencies: number[] }> {
  const started = performance.now();
  const arrivals: Array<{ at: number; cumulative: number }> = [];
  let cumulative = 0;
  for await (const chunk of client.streamChat({ model: 'qwen-turbo', messages: [{ role: 'user', content: `${marker} Tell me a long story about fireflies over a summer lake` }] })) {
    if (chunk.delta === '') continue;
    cumulative += chunk.delta.length;
    arrivals.push({ at: performance.now(), cumulative });
  }
  return { ttftMs: (arrivals[0]?.at ?? Number.NaN) - started, latencies: tokenLatencies(arrivals, proxy.emissions.get(marker) ?? []) };
}

/** Mean of the gateway's own per-event work (`gateway_subscription_event_duration_seconds`), in ms. */
async function gatewayEventMeanMs(stack: Stack): Promise<number> {
  const origin = stack.gateways[0]!.origin;
  const sum = (await readMetric(origin, 'gateway_subscription_event_duration_seconds_sum')) ?? 0;
  const count = (await readMetric(origin, 'gateway_subscription_event_duration_seconds_count')) ?? 0;
  return count > 0 ? round((sum / count) * 1000) : Number.NaN;
}

async function gatewayMemory(stack: Stack) {
  const origin = stack.gateways[0]!.origin;
  return {
    rssMb: round(((await readMetric(origin, 'process_resident_memory_bytes')) ?? 0) / 1_048_576),
    heapUsedMb: round(((await readMetric(origin, 'nodejs_heap_size_used_bytes')) ?? 0) / 1_048_576),
  };
}

/**
 * CPU of every process of the bench (platform, simulators, balancer, MariaDB, Redis, this one) and of the whole
 * machine from /proc, from `start()` to `end(tokens)`: each platform process's CPU per token, and the share of the
 * machine's CPU that went to anything else (NOISY above MAX_FOREIGN: the platform competed for the cores).
 */
function machineWatch(processes: ManagedProcess[]) {
  const named = processes.filter((p) => p.child.pid !== undefined).map((p) => ({ name: p.name, pid: p.child.pid! }));
  const shared = pidsNamed(['mariadbd', 'mysqld', 'redis-server']);
  const sample = () => ({
    machine: machineCpuMs(),
    own: Object.fromEntries(named.map(({ name, pid }) => [`${name}:${pid}`, cpuMsOrZero(pid)])),
    shared: shared.reduce((sum, pid) => sum + cpuMsOrZero(pid), 0),
    client: (process.cpuUsage().user + process.cpuUsage().system) / 1_000,
    load: loadAverage(),
  });
  const before = sample();
  return (tokens: number) => {
    const after = sample();
    const busy = after.machine.busy - before.machine.busy;
    const all = busy + (after.machine.idle - before.machine.idle) + (after.machine.steal - before.machine.steal);
    const own = Object.fromEntries(Object.keys(after.own).map((key) => [key, after.own[key]! - before.own[key]!]));
    const benchMs = Object.values(own).reduce((a, b) => a + b, 0) + (after.shared - before.shared) + (after.client - before.client);
    const share = (ms: number) => (all > 0 ? round(Math.max(0, ms) / all) : 0);
    const foreignCpuShare = share(busy - benchMs);
    return {
      machineBusyShare: share(busy),
      foreignCpuShare,
      stealShare: share(after.machine.steal - before.machine.steal),
      loadAverage: { before: before.load, after: after.load },
      /** CPU ms of each process per delivered token (every process of the platform, the simulators, the balancer). */
      cpuMsPerToken: Object.fromEntries(Object.entries(own).map(([key, ms]) => [key, round((ms / Math.max(1, tokens)) * 1000) / 1000])),
      cpuSecondsTotal: Object.fromEntries(Object.entries(own).map(([key, ms]) => [key, round(ms / 1000)])),
      clientCpuMsPerToken: round(((after.client - before.client) / Math.max(1, tokens)) * 1000) / 1000,
      sharedServersCpuMsPerToken: round(((after.shared - before.shared) / Math.max(1, tokens)) * 1000) / 1000,
      noisy: foreignCpuShare > MAX_FOREIGN,
    };
  };
}

async function mapLimit<T, R>(items: T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await run(items[index]!, index);
      }
    }),
  );
  return results;
}

export async function runStreamsBench(): Promise<void> {
  const database = await createScratchDatabase('firefly_bench_streams');
  const setupDb = createDb({ url: database.url, connectionLimit: 2 });
  await seed(setupDb);
  await setupDb.$disconnect();
  process.env.DATABASE_URL = database.url;
  process.env.REDIS_KEY_PREFIX = `bench:${randomBytes(4).toString('hex')}:`;

  const simulators = await startProcess('simulators', 'tests/src/subscription-simulators-main.ts', {
    SIM_TOKEN_DELAY_MS: String(TOKEN_DELAY_MS),
    SIM_TOKEN_DELAY_MS_B: String(TOKEN_DELAY_MS_CONCURRENT),
    SIM_DELTAS_A: String(DELTAS_SEQUENTIAL),
    SIM_DELTAS_B: String(DELTAS_CONCURRENT),
  });
  const ready = simulators.logs.find((l) => l.msg === 'simulators ready')!;
  const apiKey = ready.apiKey as string;
  const proxy = await startTimingProxy({ a: ready.a as string, b: ready.b as string });
  // Several conversation replicas: the gateway is given the balancer's URL, which learns the replicas' once they listen.
  const balancer = REPLICAS > 1 ? await startProcess('balancer', 'tests/src/balancer-main.ts', {}) : undefined;
  let stack: Stack | undefined;
  const clients: TestClient[] = [];
  try {
    stack = await startStack({
      services: ['user', 'billing', 'conversation'],
      replicas: { conversation: REPLICAS },
      // Database pools at the production default (DATABASE_POOL_SIZE 10 per process; test stacks use 4): 2,000
      // streams need a few connections at a time (about 20 sendMessage and 20 answer endings per second), and
      // bigger pools only take MariaDB's max_connections from whatever else runs on the machine.
      env: { DASHSCOPE_BASE_URL: proxy.baseUrl, DASHSCOPE_API_KEY: apiKey, DATABASE_POOL_SIZE: '10', LOG_LEVEL: 'warn' },
      // The "ready" line is the only info line a process must print; keep the rest quiet under load. Every client
      // of the bench connects from 127.0.0.1, where real users come from their own addresses: the per-address cap
      // on WebSockets (50 by default) would refuse the upgrade of half of its 100 users' sockets (HTTP 429).
      gatewayEnv: {
        LOG_LEVEL: process.env.STREAMS_GATEWAY_LOG_LEVEL ?? 'info',
        SUBSCRIPTION_MAX_CONNECTIONS_PER_IP: String(USERS + 10),
        ...(balancer ? { CONVERSATION_SUBGRAPH_URL: balancer.url } : {}),
      },
      // e.g. STREAMS_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway under load.
      gatewayNodeArgs: process.env.STREAMS_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
      // STREAMS_CONVERSATION_NODE_ARGS likewise for the conversation subgraph.
      serviceNodeArgs: { conversation: process.env.STREAMS_CONVERSATION_NODE_ARGS?.split(' ').filter(Boolean) ?? [] },
      serviceEnv: {
        conversation: {
          MAX_CONCURRENT_GENERATIONS_PER_USER: '50',
          GENERATION_CAPACITY: String(GENERATION_CAPACITY),
          GENERATION_MAX_LOOP_DELAY_MS: String(MAX_LOOP_DELAY_MS),
          LOG_LEVEL: 'info',
        },
        user: { LOG_LEVEL: 'info' },
        billing: { LOG_LEVEL: 'info' },
      },
    });
    if (balancer) {
      const response = await fetch(`${balancer.logs.find((l) => l.msg === 'balancer ready')!.control as string}/targets`, {
        method: 'POST',
        body: JSON.stringify({ targets: stack.services.conversation!.map((p) => p.origin) }),
      });
      if (!response.ok) throw new Error(`the balancer refused its targets: ${response.status}`);
    }
    const users = await mapLimit(Array.from({ length: USERS }, (_, i) => i), 10, () => createChatUser(stack!, 1_000_000));
    console.log(
      `stack up: gateway ${stack.gateways[0]!.url}; ${Object.entries(stack.services).map(([name, ps]) => `${name} ${ps.map((p) => p.origin).join(' + ')}`).join(', ')}${balancer ? ` (conversation behind ${balancer.url})` : ''}; ${USERS} users; simulator ${TOKEN_DELAY_MS} ms between tokens`,
    );

    // (a) one at a time, alternating gateway and direct so drift hits both alike. Two warm-up rounds first.
    // One socket for the whole phase, as the web client follows one answer after the other on one socket
    // (tests/e2e/web/client.e2e.ts): each answer's subscription is timed, not a new connection's handshake.
    const seqClient = connectClient(stack.wsUrl(), { token: users[0]!.token, lazyCloseTimeoutMs: 30_000 });
    clients.push(seqClient);
    const gatewayRuns: StreamRun[] = [];
    const directRuns: Array<{ ttftMs: number; latencies: number[] }> = [];
    const directClient = createDashScopeClient({ baseUrl: proxy.baseUrl, apiKey, maxRetries: 0 });
    // Every process of the platform, watched in both phases: the sequential one measures the time to the first token.
    const platform = [...stack.gateways, ...Object.values(stack.services).flat(), simulators, ...(balancer ? [balancer] : [])];
    const endSequentialWatch = machineWatch(platform);
    for (let i = -2; i < SEQUENTIAL; i++) {
      const viaGateway = await streamThroughGateway(stack, users[0]!, seqClient, `bench-a-${1_000 + i}`, proxy);
      const direct = await streamDirect(directClient, proxy, `bench-a-${5_000 + i}`);
      if (i < 0) continue;
      gatewayRuns.push(viaGateway);
      directRuns.push(direct);
    }
    const sequential = {
      streams: SEQUENTIAL,
      tokensPerStream: round(gatewayRuns.reduce((n, r) => n + r.latencies.length, 0) / SEQUENTIAL),
      timeToFirstToken: {
        gateway: summary(gatewayRuns.map((r) => r.ttftMs)),
        direct: summary(directRuns.map((r) => r.ttftMs)),
      },
      perTokenLatency: {
        gateway: summary(gatewayRuns.flatMap((r) => r.latencies)),
        direct: summary(directRuns.flatMap((r) => r.latencies)),
      },
      added: {
        ttftP50Ms: 0,
        ttftP99Ms: 0,
        perTokenP50Ms: 0,
        perTokenP99Ms: 0,
      },
      /** p50 of each part of the time to the first token through the platform (see StreamRun.phases). */
      timeToFirstTokenPhasesP50Ms: phasesP50(gatewayRuns),
      lostDeltas: gatewayRuns.reduce((n, r) => n + r.lostDeltas, 0),
      gatewayEventResolveMeanMs: await gatewayEventMeanMs(stack),
      /** The machine during the sequential phase (see machineWatch); `noisy`: others took more than MAX_FOREIGN. */
      machine: endSequentialWatch(gatewayRuns.reduce((n, r) => n + r.latencies.length, 0)),
    };
    sequential.added = {
      ttftP50Ms: round(sequential.timeToFirstToken.gateway.p50Ms - sequential.timeToFirstToken.direct.p50Ms),
      ttftP99Ms: round(sequential.timeToFirstToken.gateway.p99Ms - sequential.timeToFirstToken.direct.p99Ms),
      perTokenP50Ms: round(sequential.perTokenLatency.gateway.p50Ms - sequential.perTokenLatency.direct.p50Ms),
      perTokenP99Ms: round(sequential.perTokenLatency.gateway.p99Ms - sequential.perTokenLatency.direct.p99Ms),
    };
    console.log('(a) sequential', JSON.stringify(sequential, null, 2));

    // (b) CONCURRENT streams: one graphql-ws connection per user, CONCURRENT / USERS subscriptions on each.
    const before = await gatewayMemory(stack);
    const userClients = users.map((user) => {
      const c = connectClient(stack!.wsUrl(), { token: user.token });
      clients.push(c);
      return c;
    });
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const now = await gatewayMemory(stack!);
          if (now.rssMb > peak.rssMb) peak = { ...now };
        } catch (error) {
          console.error(`memory sample failed: ${(error as Error).message} (${String((error as Error).cause)}); gateway exit ${stack!.gateways[0]!.child.exitCode}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const endWatch = machineWatch(platform);
    const rampStarted = performance.now();
    const startFailures: string[] = [];
    const streamFailures: string[] = [];
    // STREAMS_LOG_DIR=<dir>: every process's log lines go to <dir>/<process>.jsonl at the end of the run.
    const writeLogs = () => {
      for (const p of [...stack!.gateways, ...Object.values(stack!.services).flat()]) {
        const file = REPLICAS > 1 && p.name === 'conversation' ? `${p.name}-${p.child.pid}` : p.name;
        if (process.env.STREAMS_LOG_DIR) writeFileSync(`${process.env.STREAMS_LOG_DIR}/${file}.jsonl`, p.logs.map((l) => JSON.stringify(l)).join('\n'));
      }
    };
    const dumpLogs = () => {
      writeLogs();
      for (const p of [...stack!.gateways, ...Object.values(stack!.services).flat()]) {
        console.error(`--- ${p.name} (exit ${p.child.exitCode}/${p.child.signalCode})\n${p.logs.filter((l) => process.env.STREAMS_DUMP_ALL || l.level !== 'info').slice(-25).map((l) => JSON.stringify(l).slice(0, 600)).join('\n')}\n${p.stderr.join('').slice(-1500)}`);
      }
    };
    process.once('exit', () => undefined);
    const results = await mapLimit(Array.from({ length: CONCURRENT }, (_, i) => i), CONCURRENT, async (i) => {
      // Staggered starts: streams last DELTAS_CONCURRENT × TOKEN_DELAY_MS_CONCURRENT, longer than the ramp
      // (25 s), so they all overlap; `maxOpenAtOnce` reports how many actually did.
      await new Promise((resolve) => setTimeout(resolve, i * RAMP_STEP_MS));
      const user = users[i % USERS]!;
      try {
        const tap = i % TAP_EVERY === 0 ? { url: stack!.services.conversation![0]!.url.replace(/^http/, 'ws'), secret: stack!.internalTokenSecret } : undefined;
        return await streamThroughGateway(stack!, user, userClients[i % USERS]!, `bench-b-${i}`, proxy, tap);
      } catch (error) {
        // Counted and reported rather than aborting the run: a stream that never started lost no token, and a
        // stream that ended in an error is counted as lost below.
        (error instanceof StartFailed ? startFailures : streamFailures).push((error as Error).message.slice(0, 300));
        return null;
      }
    });
    if (startFailures.length + streamFailures.length > 0) dumpLogs();
    else if (process.env.STREAMS_LOG_DIR) writeLogs();
    sampling = false;
    await sampler;
    if (stack.gateways[0]!.child.exitCode !== null) throw new Error(`the gateway died: ${stack.gateways[0]!.stderr.join('').slice(-3000)}`);
    const after = await gatewayMemory(stack);
    const runs = results.filter((r): r is StreamRun => r !== null);
    const machine = endWatch(runs.reduce((n, r) => n + r.latencies.length, 0));
    const balanced = balancer ? ((await (await fetch(`${balancer.logs.find((l) => l.msg === 'balancer ready')!.control as string}/stats`)).json()) as unknown) : undefined;
    // Everyone leaves; what the gateway still holds 10 s later shows whether anything per stream stayed behind.
    await Promise.all(userClients.map((c) => c.dispose()));
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const idle = await gatewayMemory(stack);
    const openAfterwards = {
      subscriptions: (await readMetric(stack.gateways[0]!.origin, 'gateway_subscriptions_active')) ?? 0,
      connections: (await readMetric(stack.gateways[0]!.origin, 'gateway_ws_connections')) ?? 0,
      upstreamSockets: (await readMetric(stack.gateways[0]!.origin, 'gateway_subscription_upstream_sockets')) ?? 0,
    };
    // The most streams that were open (first token received, done not yet) at the same moment.
    const edges = runs.flatMap((r) => [
      [r.openedAt, 1],
      [r.closedAt, -1],
    ]) as Array<[number, number]>;
    edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let open = 0;
    let maxOpen = 0;
    for (const [, delta] of edges) maxOpen = Math.max(maxOpen, (open += delta));
    const concurrent = {
      streams: CONCURRENT,
      tokenDelayMs: TOKEN_DELAY_MS_CONCURRENT,
      users: USERS,
      tokensPerStream: round(runs.reduce((n, r) => n + r.latencies.length, 0) / Math.max(1, runs.length)),
      maxOpenAtOnce: maxOpen,
      wallSeconds: round((performance.now() - rampStarted) / 1000),
      streamsStarted: runs.length + streamFailures.length,
      startFailures: { count: startFailures.length, first: startFailures[0], reasons: countReasons(startFailures) },
      streamFailures: { count: streamFailures.length, first: streamFailures[0], reasons: countReasons(streamFailures) },
      tokensLost: { deltas: runs.reduce((n, r) => n + r.lostDeltas, 0) + streamFailures.length, characters: runs.reduce((n, r) => n + r.lostChars, 0) },
      timeToFirstToken: summary(runs.map((r) => r.ttftMs)),
      timeToFirstTokenPhasesP50Ms: phasesP50(runs),
      perTokenLatency: summary(runs.flatMap((r) => r.latencies)),
      /** The same tokens of every TAP_EVERY-th stream read straight from the conversation subgraph (no gateway). */
      perTokenLatencySubgraphDirect: summary(runs.flatMap((r) => r.direct?.latencies ?? [])),
      /** Per token: arrival through the gateway − arrival straight from the subgraph, same token, same moment. */
      gatewayShare: summary(runs.flatMap((r) => r.direct?.gatewayShare ?? [])),
      addedPerTokenP99VsDirectMs: 0,
      gatewayEventResolveMeanMs: await gatewayEventMeanMs(stack),
      gatewayMemory: { before, peak, afterStreams: after, tenSecondsAfterClientsLeft: idle },
      openAfterClientsLeft: openAfterwards,
      conversationReplicas: REPLICAS,
      ...(balanced ? { balancer: balanced } : {}),
      generationCapacity: GENERATION_CAPACITY,
      maxLoopDelayMs: MAX_LOOP_DELAY_MS,
      /** The machine during the concurrent phase (see machineWatch); `noisy`: others took more than MAX_FOREIGN. */
      machine,
    };
    concurrent.addedPerTokenP99VsDirectMs = round(concurrent.perTokenLatency.p99Ms - sequential.perTokenLatency.direct.p99Ms);
    console.log('(b) concurrent', JSON.stringify(concurrent, null, 2));

    const result = { at: new Date().toISOString(), tokenDelayMs: TOKEN_DELAY_MS, sequential, concurrent, targets: { addedPerTokenP50Ms: '< 5', tokensLost: 0 } };
    console.log(
      `\nadded per-token latency p50 ${sequential.added.perTokenP50Ms} ms (target < 5), p99 ${sequential.added.perTokenP99Ms} ms; ` +
        `TTFT added p50 ${sequential.added.ttftP50Ms} ms (sequential phase: foreign ${Math.round(sequential.machine.foreignCpuShare * 100)}%${sequential.machine.noisy ? ' NOISY' : ' quiet'}); ${CONCURRENT} streams: ${concurrent.tokensLost.deltas} deltas / ${concurrent.tokensLost.characters} characters lost, ` +
        `p99 ${concurrent.perTokenLatency.p99Ms} ms, gateway RSS peak ${peak.rssMb} MB (before ${before.rssMb} MB); ` +
        `${concurrent.streamsStarted} started, ${concurrent.startFailures.count} starts refused or failed; ` +
        `concurrent phase: machine ${Math.round(machine.machineBusyShare * 100)}% busy, foreign ${Math.round(machine.foreignCpuShare * 100)}%, ` +
        `load ${machine.loadAverage.before} -> ${machine.loadAverage.after}${machine.noisy ? ' NOISY' : ' quiet'}`,
    );
    const dir = new URL('results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`streams-${result.at.replace(/[:.]/g, '-')}.json`, dir);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`written to ${file.pathname}`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack?.stop();
    await proxy.close();
    await simulators.stop();
    await balancer?.stop();
    await database.drop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await runStreamsBench();
}
