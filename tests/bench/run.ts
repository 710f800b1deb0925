/**
 * `npm run bench`: throughput and latency of a federated query touching all four subgraphs, through (a) our
 * gateway (gateway/src/main.ts, every production plugin) and (b) a stock @apollo/gateway + @apollo/server with
 * default settings, on the same supergraph and the same subgraph processes, measured in alternating rounds in one
 * run so machine noise hits both alike. Writes tests/bench/results/<timestamp>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createAccessTokenIssuer, createCredentialSigner, generateSigningKey } from '@firefly/auth';
import { createDb } from '@firefly/db';
import { createSessionStore } from '@firefly/auth/sessions';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { seedUserWithHistory } from '../src/fixtures.ts';

// `npm run bench -- --streams`: the token-streaming benchmark through the gateway (tests/bench/streams.ts) instead.
if (process.argv.includes('--streams')) {
  const { runStreamsBench } = await import('./streams.ts');
  await runStreamsBench();
  process.exit(0);
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
// `node --import tsx` (not the tsx CLI, which forks a second process) so each child's pid is the process doing the
// work, and its CPU time can be read from /proc.
const tsxLoader = ['--import', 'tsx'];
const root = new URL('../../', import.meta.url);

const QUERY = /* GraphQL */ `
  query Dashboard {
    conversations(first: 20) {
      edges { node { id title updatedAt model { name } owner { id displayName creditBalance { available reserved } imageJobs(first: 3) { edges { node { id status prompt } } } } } }
    }
  }
`;

const children: ChildProcess[] = [];
function startChild(script: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsxLoader, script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function waitHealthy(port: number) {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing healthy on port ${port}`);
}

interface Measurement {
  requestsPerSecond: number;
  /** CPU time the gateway process itself spent per request (user + system): the gateway's own cost, free of the
   * noise that other processes on the machine add to throughput figures. */
  gatewayCpuMsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** utime + stime of a process in milliseconds (Linux /proc; clock ticks are 100 per second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(url: string, headers: Record<string, string>, seconds: number, pid: number): Promise<Measurement> {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: QUERY }),
  });
  const gatewayCpuMsPerRequest = (cpuMs(pid) - cpuBefore) / Math.max(1, result.requests.total);
  return { requestsPerSecond: result.requests.average, gatewayCpuMsPerRequest, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

async function main() {
  const database = await createScratchDatabase('firefly_bench');
  const db = createDb({ url: database.url, connectionLimit: 2 });
  await seed(db);
  const alice = await seedUserWithHistory(db, { tenantId: 'default', conversations: 20, imageJobs: 3, credits: 1000 });
  await db.$disconnect();

  const secret = randomBytes(32).toString('hex');
  const redisPrefix = `bench:${secret.slice(0, 8)}:`;
  const key = await generateSigningKey('bench');
  const ports = { user: 14101, conversation: 14102, image: 14103, billing: 14104, ours: 14100, stock: 14110 };
  const subgraphUrls = {
    USER_SUBGRAPH_URL: `http://127.0.0.1:${ports.user}/graphql`,
    CONVERSATION_SUBGRAPH_URL: `http://127.0.0.1:${ports.conversation}/graphql`,
    IMAGE_SUBGRAPH_URL: `http://127.0.0.1:${ports.image}/graphql`,
    BILLING_SUBGRAPH_URL: `http://127.0.0.1:${ports.billing}/graphql`,
  };
  const common = { DATABASE_URL: database.url, INTERNAL_TOKEN_SECRET: secret, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
  // Each subgraph runs as its own process from its real entry point, as in production.
  const subgraphEnv = {
    ...common,
    ...subgraphUrls,
    REDIS_KEY_PREFIX: redisPrefix,
    ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]),
    USER_SUBGRAPH_PORT: String(ports.user),
    CONVERSATION_SUBGRAPH_PORT: String(ports.conversation),
    IMAGE_SUBGRAPH_PORT: String(ports.image),
    BILLING_SUBGRAPH_PORT: String(ports.billing),
  };
  for (const name of ['user', 'conversation', 'image', 'billing'] as const) {
    const child = spawn(process.execPath, [...tsxLoader, `subgraphs/${name}/src/main.ts`], { cwd: root, env: { ...process.env, ...subgraphEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
  }
  await Promise.all([ports.user, ports.conversation, ports.image, ports.billing].map((port) => waitHealthy(port)));

  // (a) our gateway, started by its own process entry with production wiring.
  // BENCH_PROFILE=1 writes a V8 CPU profile of our gateway to tests/bench/results/profiles/ when it exits.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=tests/bench/results/profiles'] : [];
  const ours = spawn(process.execPath, [...profile, ...tsxLoader, 'gateway/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...common,
      ...subgraphUrls,
      GATEWAY_PORT: String(ports.ours),
      ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]),
      REDIS_KEY_PREFIX: redisPrefix,
      // Every limit stays on and counts each request in Redis; the one bench user just never reaches its limit.
      RATE_LIMIT_PER_USER: '1000000000/60',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(ours);
  await waitHealthy(ports.ours);
  // A live session, as login would create it: our gateway checks it in Redis on every request.
  const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: redisPrefix, name: 'bench' });
  const session = { sessionId: 'bench-session', userId: alice.user.id, tenantId: 'default', roles: ['USER' as const], expiresAt: Date.now() + 3_600_000 };
  await createSessionStore(redis).save(session);
  const token = await createAccessTokenIssuer([key], { issuer: 'firefly', audience: 'firefly-api', ttlSeconds: 3600 }).issue(session);

  // (b) the stock gateway, with a credential for the same user signed once.
  const credential = await createCredentialSigner({ secret, issuer: 'gateway', ttlSeconds: 3600 })({
    kind: 'user',
    tenantId: 'default',
    requestId: 'bench',
    userId: alice.user.id,
    roles: ['USER'],
    sessionId: 'bench-session',
  });
  const stock = await startChild('tests/bench/stock-gateway.ts', { ...subgraphUrls, GATEWAY_PORT: String(ports.stock), STATIC_CREDENTIAL: credential });

  const targets = {
    ours: { url: `http://127.0.0.1:${ports.ours}/graphql`, headers: { authorization: `Bearer ${token}` }, pid: ours.pid! },
    stock: { url: `http://127.0.0.1:${ports.stock}/`, headers: {}, pid: stock.pid! },
  };
  // Both answer the query identically before anything is timed.
  for (const [name, target] of Object.entries(targets)) {
    const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body: JSON.stringify({ query: QUERY }) });
    const body = (await response.json()) as { data?: { conversations: { edges: unknown[] } }; errors?: unknown };
    if (body.errors || body.data?.conversations.edges.length !== 20) throw new Error(`${name} gateway answered wrongly: ${JSON.stringify(body).slice(0, 300)}`);
  }

  console.log(`warming up; then ${ROUNDS} alternating rounds of ${DURATION}s, ${CONNECTIONS} connections`);
  await measure(targets.ours.url, targets.ours.headers, 3, targets.ours.pid);
  await measure(targets.stock.url, targets.stock.headers, 3, targets.stock.pid);
  const rounds: Array<{ ours: Measurement; stock: Measurement }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0 ? 'ours' : 'stock';
    const second = first === 'ours' ? 'stock' : 'ours';
    const a = await measure(targets[first].url, targets[first].headers, DURATION, targets[first].pid);
    const b = await measure(targets[second].url, targets[second].headers, DURATION, targets[second].pid);
    rounds.push(first === 'ours' ? { ours: a, stock: b } : { ours: b, stock: a });
    const r = rounds.at(-1)!;
    console.log(
      `round ${round + 1}: ours ${r.ours.requestsPerSecond.toFixed(0)} req/s ${r.ours.gatewayCpuMsPerRequest.toFixed(2)} CPU ms/req · stock ${r.stock.requestsPerSecond.toFixed(0)} req/s ${r.stock.gatewayCpuMsPerRequest.toFixed(2)} CPU ms/req (${first} first)`,
    );
  }

  const summary = (pick: 'ours' | 'stock') => ({
    requestsPerSecond: median(rounds.map((r) => r[pick].requestsPerSecond)),
    gatewayCpuMsPerRequest: median(rounds.map((r) => r[pick].gatewayCpuMsPerRequest)),
    p50Ms: median(rounds.map((r) => r[pick].p50Ms)),
    p99Ms: median(rounds.map((r) => r[pick].p99Ms)),
    errors: rounds.reduce((n, r) => n + r[pick].errors + r[pick].non2xx, 0),
  });
  const result = {
    at: new Date().toISOString(),
    query: 'Dashboard: 20 conversations with model, owner, owner credit balance and owner image jobs (all four subgraphs)',
    connections: CONNECTIONS,
    secondsPerRound: DURATION,
    rounds,
    ours: summary('ours'),
    stock: summary('stock'),
    throughputRatio: 0,
    gatewayCpuRatio: 0,
  };
  result.throughputRatio = result.ours.requestsPerSecond / result.stock.requestsPerSecond;
  result.gatewayCpuRatio = result.ours.gatewayCpuMsPerRequest / result.stock.gatewayCpuMsPerRequest;

  console.log('\n               req/s     p50 ms   p99 ms   errors   gateway CPU ms/req');
  for (const name of ['ours', 'stock'] as const) {
    const s = result[name];
    console.log(
      `${name.padEnd(12)} ${s.requestsPerSecond.toFixed(0).padStart(7)} ${String(s.p50Ms).padStart(9)} ${String(s.p99Ms).padStart(8)} ${String(s.errors).padStart(8)} ${s.gatewayCpuMsPerRequest.toFixed(2).padStart(12)}`,
    );
  }
  console.log(`\nthroughput ratio ours/stock: ${result.throughputRatio.toFixed(3)}x (target ≥ 1.0x)`);
  console.log(`gateway CPU per request ours/stock: ${result.gatewayCpuRatio.toFixed(3)}x (lower is better)`);
  const dir = new URL('results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${result.at.replace(/[:.]/g, '-')}.json`, dir);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`written to ${file.pathname}`);
  await database.drop();
  await deleteKeys(redis, redisPrefix);
  await closeRedis(redis);
}

async function deleteKeys(redis: Redis, prefix: string) {
  // SCAN patterns see full key names; the client's keyPrefix applies to commands, so strip it before DEL.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGTERM');
}
