/**
 * `npm run bench`: throughput and latency through (a) our gateway (gateway/src/main.ts, every production plugin),
 * (b) a stock @apollo/gateway + @apollo/server with default settings and (c) Hive Gateway (tests/bench/hive-gateway.mjs),
 * on the same supergraph and the same subgraph processes, measured in rotating rounds in one run so machine noise
 * hits all alike. Two workloads:
 *   - per-user: the Dashboard query through all four subgraphs; each connection to our gateway is a different user
 *     with their own token; stock and Hive send one static credential, Hive with upstream request dedup off (with
 *     per-user credentials it could not merge requests either);
 *   - identical anonymous traffic on a public query (the catalogs): our gateway with its response cache, stock,
 *     and Hive with its defaults (identical in-flight upstream requests merged). `BENCH_PUBLIC=0` skips it.
 * Gateway and subgraph CPU per request are read from /proc. Writes tests/bench/results/<timestamp>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { createAccessTokenIssuer, createCredentialSigner, generateSigningKey } from '@firefly/auth';
import { createDb } from '@firefly/db';
import { createSessionStore } from '@firefly/auth/sessions';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { seedUserWithHistory } from '../src/fixtures.ts';
import { cpuMs, cpuMsOrZero, loadAverage, machineCpuMs, median, pidsNamed } from './process-cpu.ts';
import { waitHealthy } from './wait-healthy.ts';

// `npm run bench -- --streams`: the token-streaming benchmark through the gateway (tests/bench/streams.ts) instead.
if (process.argv.includes('--streams')) {
  const { runStreamsBench } = await import('./streams.ts');
  await runStreamsBench();
  process.exit(0);
}

// `npm run bench -- --images`: image jobs through two workers, followed by imageJobUpdated (tests/bench/images.ts).
if (process.argv.includes('--images')) {
  const { runImagesBench } = await import('./images.ts');
  await runImagesBench();
  process.exit(0);
}

// `npm run bench -- --ab <checkout>`: another checkout's gateway (A) against this one's (B), paired windows (tests/bench/ab.ts).
const abIndex = process.argv.indexOf('--ab');
if (abIndex >= 0) {
  const { runAbBench } = await import('./ab.ts');
  await runAbBench(process.argv[abIndex + 1] ?? '');
  process.exit(0);
}

// `npm run bench -- --partner`: a partner's persisted, signed request vs a user's query text (tests/bench/partner.ts).
if (process.argv.includes('--partner')) {
  const { runPartnerBench } = await import('./partner.ts');
  await runPartnerBench();
  process.exit(0);
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
/** Unmeasured seconds of load on each target before its first round (JIT, caches, connection pools). */
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
/** Unmeasured seconds of load right before each measured window: the subgraphs are shared, and what one gateway's
 * requests left behind (their optimised code, pools) must not be billed to the next one. */
const LEAD_IN = Number(process.env.BENCH_LEAD_IN_SECONDS ?? 2);
/** A round in which processes outside the bench used more than this share of the machine's CPU is marked noisy. */
const MAX_FOREIGN = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.05);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Distinct users behind our gateway's connections (default one per connection; 1 = every connection the same user). */
const USERS = Math.max(1, Math.min(CONNECTIONS, Number(process.env.BENCH_USERS ?? CONNECTIONS)));
// `node --import tsx` (not the tsx CLI, which forks a second process) so each child's pid is the process doing the
// work, and its CPU time can be read from /proc.
const tsxLoader = ['--import', 'tsx'];
const root = new URL('../../', import.meta.url);

const PUBLIC_QUERY = /* GraphQL */ `
  query Catalog { chatModels { id name } imageModels { id sizes } products { id name credits priceFen } }
`;
const PUBLIC = process.env.BENCH_PUBLIC !== '0';

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

interface Measurement {
  requestsPerSecond: number;
  /** CPU time the gateway process itself spent per request (user + system): the gateway's own cost, free of the
   * noise that other processes on the machine add to throughput figures. */
  gatewayCpuMsPerRequest: number;
  /** The same for each subgraph process. */
  subgraphCpuMsPerRequest: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** What else ran on the machine during the window (see `Conditions`). */
  conditions: Conditions;
}

/**
 * The machine during one measured window, from /proc: how busy it was (share of all cores), the share taken by
 * processes that are not part of the bench (anything but the gateways, the subgraphs, MariaDB, Redis and this
 * process, which runs the load generator), the hypervisor's steal, this process's (the client's) CPU per request,
 * and the 1-minute load average at the end. A window with a foreign share above BENCH_MAX_FOREIGN_CPU is noisy: the
 * gateways and the client competed with someone else for the two cores, and its figures say little.
 */
interface Conditions {
  machineBusyShare: number;
  foreignCpuShare: number;
  stealShare: number;
  clientCpuMsPerRequest: number;
  /** MariaDB's and Redis's CPU per request. They serve other processes on the machine too (tests), so they count as
   * the bench's own; a figure far above the other rounds' says someone else was using them. */
  sharedServersCpuMsPerRequest: number;
  loadAverage: number;
  noisy: boolean;
}

interface Target {
  url: string;
  pid: number;
  /** Headers of connection `i` (a different user per connection, or the same for all). */
  headersOf: (connection: number) => Record<string, string>;
}

const subgraphPids: Record<string, number> = {};
/** Every process whose CPU is the bench's own (gateways, subgraphs, MariaDB, Redis); this process is counted apart. */
const benchPids = new Set<number>();
/** The shared servers among them (MariaDB, Redis). */
const sharedServerPids = new Set<number>();

function load(target: Target, query: string, seconds: number) {
  let connection = 0;
  return autocannon({
    url: target.url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    setupClient: (client) => client.setHeaders({ 'content-type': 'application/json', ...target.headersOf(connection++) }),
  });
}

async function measure(target: Target, query: string, seconds: number): Promise<Measurement> {
  if (LEAD_IN > 0) await load(target, query, LEAD_IN);
  const benchCpu = () => [...benchPids].reduce((sum, pid) => sum + cpuMsOrZero(pid), 0);
  const machineBefore = machineCpuMs();
  const clientBefore = process.cpuUsage();
  const benchBefore = benchCpu();
  const sharedCpu = () => [...sharedServerPids].reduce((sum, pid) => sum + cpuMsOrZero(pid), 0);
  const sharedBefore = sharedCpu();
  const cpuBefore = cpuMs(target.pid);
  const subgraphBefore = Object.fromEntries(Object.entries(subgraphPids).map(([name, pid]) => [name, cpuMs(pid)]));
  const result = await load(target, query, seconds);
  const requests = Math.max(1, result.requests.total);
  const gatewayCpuMsPerRequest = (cpuMs(target.pid) - cpuBefore) / requests;
  const subgraphCpuMsPerRequest = Object.fromEntries(Object.entries(subgraphPids).map(([name, pid]) => [name, (cpuMs(pid) - subgraphBefore[name]!) / requests]));
  const client = process.cpuUsage(clientBefore);
  const clientMs = (client.user + client.system) / 1000;
  const benchMs = benchCpu() - benchBefore;
  const machineAfter = machineCpuMs();
  const busy = machineAfter.busy - machineBefore.busy;
  const all = busy + (machineAfter.idle - machineBefore.idle) + (machineAfter.steal - machineBefore.steal);
  const share = (ms: number) => (all > 0 ? Math.max(0, ms) / all : 0);
  const foreignCpuShare = share(busy - benchMs - clientMs);
  return {
    requestsPerSecond: result.requests.average,
    gatewayCpuMsPerRequest,
    subgraphCpuMsPerRequest,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    conditions: {
      machineBusyShare: share(busy),
      foreignCpuShare,
      stealShare: share(machineAfter.steal - machineBefore.steal),
      clientCpuMsPerRequest: clientMs / requests,
      sharedServersCpuMsPerRequest: (sharedCpu() - sharedBefore) / requests,
      loadAverage: loadAverage(),
      noisy: foreignCpuShare > MAX_FOREIGN,
    },
  };
}

type Rounds<Name extends string> = Array<Record<Name, Measurement>>;

/** `ROUNDS` rounds over every target, each round starting with the next one (rotating order), after a warm-up. */
async function rotate<Name extends string>(targets: Record<Name, Target>, query: string): Promise<Rounds<Name>> {
  const names = Object.keys(targets) as Name[];
  for (const name of names) await load(targets[name], query, WARMUP);
  const rounds: Rounds<Name> = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    const measured = {} as Record<Name, Measurement>;
    for (const name of order) measured[name] = await measure(targets[name], query, DURATION);
    rounds.push(measured);
    const ours = measured[names[0]!];
    console.log(
      `round ${round + 1} (${order.join(' → ')}): ` +
        names.map((name) => `${name} ${measured[name].requestsPerSecond.toFixed(0)} req/s ${measured[name].gatewayCpuMsPerRequest.toFixed(2)} CPU ms/req`).join(' · ') +
        ` | ${names[0]}/` +
        names
          .slice(1)
          .map((name) => `${name} ${(ours.requestsPerSecond / measured[name].requestsPerSecond).toFixed(2)}x req/s ${(ours.gatewayCpuMsPerRequest / measured[name].gatewayCpuMsPerRequest).toFixed(2)}x CPU`)
          .join(', ') +
        ` | machine ${percent(Math.max(...names.map((n) => measured[n].conditions.machineBusyShare)))} busy, foreign ${percent(Math.max(...names.map((n) => measured[n].conditions.foreignCpuShare)))}, MariaDB+Redis ${names.map((n) => measured[n].conditions.sharedServersCpuMsPerRequest.toFixed(2)).join('/')} ms/req, load ${ours.conditions.loadAverage.toFixed(1)}` +
        (names.some((n) => measured[n].conditions.noisy) ? ' NOISY' : ''),
    );
  }
  return rounds;
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;

/** The rounds in which no measurement was noisy; all of them when fewer than half were quiet. */
function quietRounds<Name extends string>(rounds: Rounds<Name>): { rounds: Rounds<Name>; quiet: boolean } {
  const quiet = rounds.filter((round) => Object.values<Measurement>(round).every((m) => !m.conditions.noisy));
  return quiet.length * 2 >= rounds.length ? { rounds: quiet, quiet: quiet.length === rounds.length } : { rounds, quiet: false };
}

function summarize<Name extends string>(rounds: Rounds<Name>, name: Name) {
  const pick = (f: (m: Measurement) => number) => median(rounds.map((r) => f(r[name])));
  const subgraphs = Object.keys(rounds[0]![name].subgraphCpuMsPerRequest);
  return {
    requestsPerSecond: pick((m) => m.requestsPerSecond),
    gatewayCpuMsPerRequest: pick((m) => m.gatewayCpuMsPerRequest),
    subgraphCpuMsPerRequest: Object.fromEntries(subgraphs.map((sub) => [sub, pick((m) => m.subgraphCpuMsPerRequest[sub]!)])),
    p50Ms: pick((m) => m.p50Ms),
    p99Ms: pick((m) => m.p99Ms),
    errors: rounds.reduce((n, r) => n + r[name].errors + r[name].non2xx, 0),
    clientCpuMsPerRequest: pick((m) => m.conditions.clientCpuMsPerRequest),
    sharedServersCpuMsPerRequest: pick((m) => m.conditions.sharedServersCpuMsPerRequest),
  };
}
type Summary = ReturnType<typeof summarize>;

/** Ours against `other` within each round (paired: both measured minutes apart at most), then the median and range. */
function pairedRatios<Name extends string>(rounds: Rounds<Name>, ours: Name, other: Name) {
  const throughput = rounds.map((r) => r[ours].requestsPerSecond / r[other].requestsPerSecond);
  const gatewayCpu = rounds.map((r) => r[ours].gatewayCpuMsPerRequest / r[other].gatewayCpuMsPerRequest);
  const range = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values });
  return { throughput: range(throughput), gatewayCpu: range(gatewayCpu) };
}
type Paired = ReturnType<typeof pairedRatios>;
const showPaired = (p: Paired) =>
  `per-round median ${p.throughput.median.toFixed(3)}x req/s (${p.throughput.min.toFixed(2)}–${p.throughput.max.toFixed(2)}), ${p.gatewayCpu.median.toFixed(3)}x CPU (${p.gatewayCpu.min.toFixed(2)}–${p.gatewayCpu.max.toFixed(2)})`;

function printTable(title: string, summaries: Record<string, Summary>) {
  console.log(`\n${title}\n               req/s     p50 ms   p99 ms   errors   gateway CPU ms/req   subgraph CPU ms/req`);
  for (const [name, s] of Object.entries(summaries)) {
    const subgraphs = Object.entries(s.subgraphCpuMsPerRequest).map(([sub, ms]) => `${sub} ${ms.toFixed(2)}`).join(' / ');
    console.log(
      `${name.padEnd(12)} ${s.requestsPerSecond.toFixed(0).padStart(7)} ${String(s.p50Ms).padStart(9)} ${String(s.p99Ms).padStart(8)} ${String(s.errors).padStart(8)} ${s.gatewayCpuMsPerRequest.toFixed(2).padStart(12)}         ${subgraphs}`,
    );
  }
}

function quietVerdict<Name extends string>(all: Rounds<Name>, used: Rounds<Name>, quiet: boolean): string {
  const worst = Math.max(...all.flatMap((r) => Object.values<Measurement>(r).map((m) => m.conditions.foreignCpuShare)));
  if (quiet) return `machine quiet: no process outside the bench above ${percent(MAX_FOREIGN)} of the CPU in any round (worst ${percent(worst)})`;
  if (used.length < all.length) return `NOISY rounds left out: medians of rounds ${used.map((r) => all.indexOf(r) + 1).join(', ')} (worst foreign CPU ${percent(worst)})`;
  return `NOT QUIET: processes outside the bench took up to ${percent(worst)} of the CPU in most rounds; do not quote these ratios`;
}

const ratios = (ours: Summary, other: Summary) => ({
  throughput: ours.requestsPerSecond / other.requestsPerSecond,
  gatewayCpu: ours.gatewayCpuMsPerRequest / other.gatewayCpuMsPerRequest,
});

async function main() {
  const database = await createScratchDatabase('firefly_bench');
  const db = createDb({ url: database.url, connectionLimit: 4 });
  await seed(db);
  // One user per connection to our gateway (per-user traffic), each with the same history.
  const users: Array<Awaited<ReturnType<typeof seedUserWithHistory>>> = [];
  for (let i = 0; i < USERS; i++) users.push(await seedUserWithHistory(db, { tenantId: 'default', conversations: 20, imageJobs: 3, credits: 1000 }));
  const alice = users[0]!;
  await db.$disconnect();

  const secret = randomBytes(32).toString('hex');
  const redisPrefix = `bench:${secret.slice(0, 8)}:`;
  const key = await generateSigningKey('bench');
  const ports = { user: 14101, conversation: 14102, image: 14103, billing: 14104, ours: 14100, stock: 14110, hive: 14120, hiveDefault: 14121 };
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
    subgraphPids[name] = child.pid!;
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
      // Every limit stays on and counts each request in Redis; the bench users (and the one anonymous client IP of
      // the public workload) just never reach theirs.
      RATE_LIMIT_PER_USER: '1000000000/60',
      RATE_LIMIT_ANONYMOUS_PER_IP: '1000000000/60',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(ours);
  await waitHealthy(ports.ours);
  // Live sessions, as login would create them: our gateway checks one in Redis on every request.
  const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: redisPrefix, name: 'bench' });
  const issuer = createAccessTokenIssuer([key], { issuer: 'firefly', audience: 'firefly-api', ttlSeconds: 3600 });
  const tokens: string[] = [];
  for (const [i, user] of users.entries()) {
    const session = { sessionId: `bench-session-${i}`, userId: user.user.id, tenantId: 'default', roles: ['USER' as const], expiresAt: Date.now() + 3_600_000 };
    await createSessionStore(redis).save(session);
    tokens.push(await issuer.issue(session));
  }

  // (b) the stock gateway and (c) Hive Gateway, with a credential for the first user signed once.
  const credential = await createCredentialSigner({ secret, issuer: 'gateway', ttlSeconds: 3600 })({
    kind: 'user',
    tenantId: 'default',
    requestId: 'bench',
    userId: alice.user.id,
    roles: ['USER'],
    sessionId: 'bench-session-0',
  });
  const stock = await startChild('tests/bench/stock-gateway.ts', { ...subgraphUrls, GATEWAY_PORT: String(ports.stock), STATIC_CREDENTIAL: credential });
  const hive = await startChild('tests/bench/hive-gateway.mjs', { ...subgraphUrls, GATEWAY_PORT: String(ports.hive), STATIC_CREDENTIAL: credential, HIVE_UPSTREAM_DEDUP: 'false' });

  const none = () => ({});
  const perUser = {
    ours: { url: `http://127.0.0.1:${ports.ours}/graphql`, headersOf: (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` }), pid: ours.pid! },
    stock: { url: `http://127.0.0.1:${ports.stock}/`, headersOf: none, pid: stock.pid! },
    hive: { url: `http://127.0.0.1:${ports.hive}/graphql`, headersOf: none, pid: hive.pid! },
  };
  // All answer the query alike before anything is timed.
  for (const [name, target] of Object.entries(perUser)) {
    const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headersOf(0) }, body: JSON.stringify({ query: QUERY }) });
    const body = (await response.json()) as { data?: { conversations: { edges: unknown[] } }; errors?: unknown };
    if (body.errors || body.data?.conversations.edges.length !== 20) throw new Error(`${name} gateway answered wrongly: ${JSON.stringify(body).slice(0, 300)}`);
  }

  for (const pid of pidsNamed(['mariadbd', 'mysqld', 'redis-server'])) sharedServerPids.add(pid);
  for (const pid of [ours.pid!, stock.pid!, hive.pid!, ...Object.values(subgraphPids), ...sharedServerPids]) benchPids.add(pid);
  const loadBefore = loadAverage();
  console.log(
    `per-user traffic: ${WARMUP}s warm-up per gateway; then ${ROUNDS} rotating rounds of ${DURATION}s (each after ${LEAD_IN}s unmeasured), ${CONNECTIONS} connections; load average ${loadBefore.toFixed(2)}`,
  );
  const allRounds = await rotate(perUser, QUERY);
  const { rounds, quiet } = quietRounds(allRounds);
  const summaries = { ours: summarize(rounds, 'ours'), stock: summarize(rounds, 'stock'), hive: summarize(rounds, 'hive') };
  printTable(`per-user traffic (Dashboard query, all four subgraphs; medians of ${rounds.length} of ${allRounds.length} rounds)`, summaries);
  const vsStock = ratios(summaries.ours, summaries.stock);
  const vsHive = ratios(summaries.ours, summaries.hive);
  const paired = { vsStock: pairedRatios(rounds, 'ours', 'stock'), vsHive: pairedRatios(rounds, 'ours', 'hive') };
  console.log(`\nours/stock: throughput ${vsStock.throughput.toFixed(3)}x, gateway CPU per request ${vsStock.gatewayCpu.toFixed(3)}x (issue 9: ≤ 0.72x); ${showPaired(paired.vsStock)}`);
  console.log(`ours/hive:  throughput ${vsHive.throughput.toFixed(3)}x (issue 15: ≥ 1.3x), gateway CPU per request ${vsHive.gatewayCpu.toFixed(3)}x (issue 15: ≤ 0.6x); ${showPaired(paired.vsHive)}`);
  console.log(quietVerdict(allRounds, rounds, quiet));

  // Identical anonymous traffic on a public query: Hive with its defaults (upstream dedup on).
  let publicTraffic: Record<string, unknown> | undefined;
  if (PUBLIC) {
    const hiveDefault = await startChild('tests/bench/hive-gateway.mjs', { ...subgraphUrls, GATEWAY_PORT: String(ports.hiveDefault), STATIC_CREDENTIAL: credential });
    benchPids.add(hiveDefault.pid!);
    const anonymous = {
      ours: { url: perUser.ours.url, headersOf: none, pid: ours.pid! },
      stock: perUser.stock,
      hive: { url: `http://127.0.0.1:${ports.hiveDefault}/graphql`, headersOf: none, pid: hiveDefault.pid! },
    };
    for (const [name, target] of Object.entries(anonymous)) {
      const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PUBLIC_QUERY }) });
      const body = (await response.json()) as { data?: { products: unknown[] }; errors?: unknown };
      if (body.errors || !body.data?.products.length) throw new Error(`${name} gateway answered the public query wrongly: ${JSON.stringify(body).slice(0, 300)}`);
    }
    console.log(`\nidentical anonymous traffic: ${WARMUP}s warm-up per gateway; then ${ROUNDS} rotating rounds of ${DURATION}s, ${CONNECTIONS} connections`);
    const allPublicRounds = await rotate(anonymous, PUBLIC_QUERY);
    const publicQuiet = quietRounds(allPublicRounds);
    const publicRounds = publicQuiet.rounds;
    const publicSummaries = { ours: summarize(publicRounds, 'ours'), stock: summarize(publicRounds, 'stock'), hive: summarize(publicRounds, 'hive') };
    printTable('identical anonymous traffic (public catalog query; ours: response cache, hive: defaults)', publicSummaries);
    const publicVsHive = ratios(publicSummaries.ours, publicSummaries.hive);
    const publicPaired = { vsStock: pairedRatios(publicRounds, 'ours', 'stock'), vsHive: pairedRatios(publicRounds, 'ours', 'hive') };
    console.log(`\nours/hive defaults: throughput ${publicVsHive.throughput.toFixed(3)}x (issue 15: ≥ 1.0x), gateway CPU per request ${publicVsHive.gatewayCpu.toFixed(3)}x; ${showPaired(publicPaired.vsHive)}`);
    console.log(quietVerdict(allPublicRounds, publicRounds, publicQuiet.quiet));
    publicTraffic = {
      query: 'Catalog: chatModels, imageModels, products (anonymous)',
      rounds: allPublicRounds,
      roundsSummarised: publicRounds.map((r) => allPublicRounds.indexOf(r) + 1),
      quiet: publicQuiet.quiet,
      ...publicSummaries,
      ratios: { vsStock: ratios(publicSummaries.ours, publicSummaries.stock), vsHive: publicVsHive },
      pairedRatios: publicPaired,
    };
  }

  const result = {
    at: new Date().toISOString(),
    query: 'Dashboard: 20 conversations with model, owner, owner credit balance and owner image jobs (all four subgraphs)',
    connections: CONNECTIONS,
    usersBehindOurConnections: USERS,
    secondsPerRound: DURATION,
    warmupSeconds: WARMUP,
    leadInSeconds: LEAD_IN,
    loadAverage: { before: loadBefore, after: loadAverage() },
    /** Every round; the summaries below are medians over `roundsSummarised` (the quiet ones, see quietRounds). */
    rounds: allRounds,
    roundsSummarised: rounds.map((r) => allRounds.indexOf(r) + 1),
    quiet,
    ...summaries,
    throughputRatio: vsStock.throughput,
    gatewayCpuRatio: vsStock.gatewayCpu,
    ratios: { vsStock, vsHive },
    pairedRatios: paired,
    ...(publicTraffic ? { publicTraffic } : {}),
  };
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


try {
  await main();
} finally {
  for (const child of children) child.kill('SIGTERM');
}
