/**
 * `npm run bench -- --images`: image jobs end to end through the gateway, as separate processes (tests/src/image-stack.ts:
 * gateway, user, billing and image subgraphs, two image workers, and the DashScope and OSS simulators in a process of
 * their own, so their work never delays this one, which follows the jobs and stamps their events),
 * on a scratch database and this run's Redis prefix.
 *
 * IMAGES_WARMUP_JOBS (default IMAGES_USERS: one per user) jobs first, then IMAGES_JOBS (500) measured jobs from
 * IMAGES_USERS (50) users, each followed with imageJobUpdated over graphql-ws as soon as it is created. Reports:
 *   - jobs lost (accepted, but not SUCCEEDED with their credits settled in the end, or whose subscription did not
 *     complete): must be 0; creations refused even after two retries with the same idempotency key are counted apart;
 *   - jobs charged twice (more than one IMAGE_USAGE ledger entry): must be 0;
 *   - state change → subscriber's event, p50/p99: the worker stamps each progress stream entry with its time (after
 *     the row was written); an event's latency is its arrival here minus the stamp of the entry with its status and
 *     progress (the first event, the state at subscribe time, is not counted);
 *   - where that time goes, from the processes' own histograms (p50/p99 by linear interpolation in their buckets, and
 *     the mean): the image subgraph's stamp → event leaving it (`image_job_event_delay_seconds`), the gateway's
 *     arrival → event sent (`gateway_subscription_event_delay_seconds`, of which resolving it, the other subgraphs'
 *     fields: `gateway_subscription_event_duration_seconds`), and the events the gateway dropped for a newer state
 *     (`gateway_subscription_events_superseded_total`); the rest is the sockets and this process;
 *   - jobs per minute (first create to last settled) and each worker's CPU per job (/proc), the load average before
 *     and after, and a verdict: NOISY when processes outside the bench (anything but the stack's processes, MariaDB,
 *     Redis and this one) took more than BENCH_MAX_FOREIGN_CPU (5%) of the machine's CPU over the run, else quiet
 *     (only a quiet run's figures mean much; compare NOISY runs only with runs under similar load).
 * Writes tests/bench/results/images-<timestamp>.json. Env: IMAGES_JOBS, IMAGES_USERS, IMAGES_WORKER_CONCURRENCY (8),
 * IMAGES_TASK_MS (1000: DashScope simulator's running time per task), IMAGES_IN_FLIGHT (2 workers × IMAGES_WORKER_CONCURRENCY), IMAGES_PROGRESS_MS (1000), IMAGES_BILLING_POOL (10),
 * IMAGES_CPU_PROF_DIR (unset: when set, every platform process and worker writes V8 CPU profiles into <dir>/<process> when it stops —
 * profiling costs CPU of its own, so such a run's latencies are not comparable).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createDb } from '@firefly/db';
import { seed } from '@firefly/db/seed';
import { createScratchDatabase } from '@firefly/db/testing';
import { jobStreamKey } from '@firefly/image-jobs';
import { collect, connectClient, type Collected, type TestClient } from '../src/subscription-client.ts';
import { createChatUser, type ChatUser } from '../src/subscription-chat.ts';
import { createJob, JOB_UPDATES, startImageStackWithSimulatorProcess, type ImageStackCore, type JobEvent } from '../src/image-stack.ts';
import { readMetric } from '../src/subscription-processes.ts';
import { cpuMs, cpuMsOrZero, machineCpuMs, pidsNamed } from './process-cpu.ts';

const JOBS = Number(process.env.IMAGES_JOBS ?? 500);
const USERS = Number(process.env.IMAGES_USERS ?? 50);
const WORKER_CONCURRENCY = process.env.IMAGES_WORKER_CONCURRENCY ?? '8';
const TASK_MS = Number(process.env.IMAGES_TASK_MS ?? 1_000);
/** Least time between two progress steps of a job (the worker's IMAGE_PROGRESS_MIN_INTERVAL_MS, default 1000). */
const PROGRESS_MS = process.env.IMAGES_PROGRESS_MS ?? '1000';
/** Billing's database pool (DATABASE_POOL_SIZE; 10 is the production default). */
const BILLING_POOL = process.env.IMAGES_BILLING_POOL ?? '10';
/**
 * Jobs started at once (each costs a subscription and a createImageJob). Default: as many as the two workers run at
 * once, so every worker slot stays busy. Offering more only builds a queue in BullMQ, and on a 2-core machine that
 * runs every process and the clients, the extra creations and subscriptions compete for the same CPU as the events
 * being measured (40, the earlier default, gave fewer jobs per minute and later events; loaded runs, see the notes).
 */
const IN_FLIGHT = Number(process.env.IMAGES_IN_FLIGHT ?? 2 * Number(WORKER_CONCURRENCY));
/**
 * Jobs run before the measured ones (default one per user), so the figures are those of a running platform rather than
 * of its first seconds: every process's first requests (database and Redis connections opened, queries compiled,
 * each user's first subscription opening the gateway's upstream socket) made the first tenth of a cold run 10–30×
 * slower than the rest (13:45 run: first tenth p50 1,393 ms, tenths 4–10 p99 118–337 ms). Their latencies are
 * reported apart (warmUp), their outcomes count towards jobs lost and charged twice; 0 measures from a cold start.
 */
const WARMUP_JOBS = Number(process.env.IMAGES_WARMUP_JOBS ?? USERS);

/** A run in which processes outside the bench used more than this share of the machine's CPU is NOISY (as bench rounds). */
const MAX_FOREIGN = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.05);

const PROFILE_DIR = process.env.IMAGES_CPU_PROF_DIR;
/** A directory per process kind; V8 names each thread's profile (the process's and tsx's loader thread) by pid and thread. */
const profileArgs = (name: string) => (PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${name}`] : []);

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};

interface RawHistogram {
  /** Cumulative counts by upper bound (s), ascending. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** A Prometheus histogram on a /metrics endpoint as it stands (cumulative buckets, sum, count). */
async function histogramRaw(origin: string, name: string, labels: Record<string, string> = {}): Promise<RawHistogram> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const buckets: [number, number][] = [];
  let sum = 0;
  let count = 0;
  const wanted = (labelText: string) => Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
  for (const line of text.split('\n')) {
    const match = /^(\w+?)(_bucket|_sum|_count)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name || !wanted(match[3] ?? '')) continue;
    const value = Number(match[4]);
    if (match[2] === '_sum') sum += value;
    else if (match[2] === '_count') count += value;
    else {
      const le = /le="([^"]+)"/.exec(match[3] ?? '')?.[1];
      const bound = le === '+Inf' ? Infinity : Number(le);
      const existing = buckets.find(([b]) => b === bound);
      if (existing) existing[1] += value;
      else buckets.push([bound, value]);
    }
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, sum, count };
}

/**
 * A histogram's observations since `before` (the warm-up's taken off), in ms: count, mean and p50/p99 interpolated
 * within its buckets.
 */
async function histogramMs(origin: string, name: string, labels: Record<string, string> = {}, before?: RawHistogram) {
  const now = await histogramRaw(origin, name, labels);
  const earlier = (bound: number) => before?.buckets.find(([b]) => b === bound)?.[1] ?? 0;
  const buckets = now.buckets.map(([bound, cumulative]) => [bound, cumulative - earlier(bound)] as [number, number]);
  const sum = now.sum - (before?.sum ?? 0);
  const count = now.count - (before?.count ?? 0);
  const quantile = (q: number) => {
    if (count === 0) return null;
    const rank = q * count;
    let previousBound = 0;
    let previousCount = 0;
    for (const [bound, cumulative] of buckets) {
      if (cumulative >= rank) {
        if (bound === Infinity) return `>${Math.round(previousBound * 1000)}`;
        const within = cumulative === previousCount ? 0 : (rank - previousCount) / (cumulative - previousCount);
        return Math.round((previousBound + (bound - previousBound) * within) * 10_000) / 10;
      }
      previousBound = bound;
      previousCount = cumulative;
    }
    return null;
  };
  return { count, mean: count ? Math.round((sum / count) * 10_000) / 10 : null, p50: quantile(0.5), p99: quantile(0.99) };
}

const load = () => loadavg().map((n) => Math.round(n * 100) / 100);

interface Run {
  jobId?: string;
  sub: Collected<{ imageJobUpdated: JobEvent }>;
  arrivals: { status: string; progress: number; at: number }[];
  error?: string;
}

export async function runImagesBench(): Promise<void> {
  const database = await createScratchDatabase('firefly_bench_images');
  const setupDb = createDb({ url: database.url, connectionLimit: 2 });
  await seed(setupDb);
  await setupDb.$disconnect();
  process.env.DATABASE_URL = database.url;
  process.env.REDIS_KEY_PREFIX = `bench:${randomBytes(4).toString('hex')}:`;

  let images: ImageStackCore | undefined;
  const clients: TestClient[] = [];
  try {
    images = await startImageStackWithSimulatorProcess({
      workers: 2,
      simulator: { taskPendingMs: 100, taskRunningMs: TASK_MS, maxConcurrentTasksPerModel: 10_000, maxRecordedRequests: 100 },
      // Polls as fast as the tests' (100–300 ms, so a 1 s task is not held up by its polls), progress steps at the
      // production default of at most one a second (IMAGES_PROGRESS_MS).
      workerEnv: { IMAGE_WORKER_CONCURRENCY: WORKER_CONCURRENCY, IMAGE_WORKER_LOCK_MS: '30000', DATABASE_POOL_SIZE: '10', IMAGE_PROGRESS_MIN_INTERVAL_MS: PROGRESS_MS },
      imageEnv: { MAX_ACTIVE_IMAGE_JOBS_PER_USER: '1000', IMAGE_RATE_LIMITS: 'Mutation=100000/60,Subscription=100000/60', DATABASE_POOL_SIZE: '20' },
      // The production default pool (the test stacks give every process 4 connections): billing's credit transactions
      // (a hold per job, a settlement per job) would otherwise keep the per-event balance reads waiting for one.
      billingEnv: { DATABASE_POOL_SIZE: BILLING_POOL },
      userEnv: { DATABASE_POOL_SIZE: '10' },
      ...(PROFILE_DIR
        ? { nodeArgs: { gateway: profileArgs('gateway'), user: profileArgs('user'), billing: profileArgs('billing'), image: profileArgs('image'), worker: profileArgs('image-worker') } }
        : {}),
    });
    const stack = images.stack;
    const users: ChatUser[] = [];
    for (let i = 0; i < USERS; i++) users.push(await createChatUser(stack, 1_000_000));
    const userClients = users.map((user) => {
      const client = connectClient(stack.wsUrl(), { token: user.token, lazy: false });
      clients.push(client);
      return client;
    });
    console.log(`stack up: ${USERS} users, 2 workers × ${WORKER_CONCURRENCY}, ${WARMUP_JOBS} warm-up + ${JOBS} jobs, DashScope task ${TASK_MS} ms`);

    const startOne = async (n: number, into: Run[], key: string) => {
      const user = users[n % USERS]!;
      // As a client should: an idempotency key, and the same request again after a timeout (same job, charged once).
      const input = { prompt: `bench image ${key}`, model: 'wanx2.1-t2i-turbo', count: 1, idempotencyKey: `bench-${key}` };
      let job: JobEvent | Error = new Error('not sent');
      for (let attempt = 0; attempt < 3; attempt++) {
        job = await createJob(stack, user, input).catch((error: unknown) => error as Error);
        if (!(job instanceof Error) || !/UPSTREAM_UNAVAILABLE/.test(job.message)) break;
      }
      if (job instanceof Error) {
        into.push({ sub: null as never, arrivals: [], error: job.message });
        return;
      }
      const run: Run = { jobId: job.id, sub: collect(userClients[n % USERS]!.client, JOB_UPDATES, { jobId: job.id }), arrivals: [] };
      into.push(run);
      await Promise.race([run.sub.outcome, new Promise((resolve) => setTimeout(resolve, 180_000))]);
      // Arrival times on the wall clock (as the worker stamps its entries: Date.now()), taken by the client when each
      // message came in — not by a timer sampling the results, which cost CPU of its own and stamped events late. Read
      // with Date.now() itself, not performance.timeOrigin + performance.now(): that sum runs on the monotonic clock
      // from this process's start and strays from Date.now() (kvm-clock here: 2.4 and 5.7 ms ahead at two fresh
      // processes' start, 0.2–1 ms ahead after 10–90 s), which made every latency look up to that much longer.
      for (const result of run.sub.results) {
        const event = result.data?.imageJobUpdated;
        run.arrivals.push({ status: event?.status ?? 'ERROR', progress: event?.progress ?? -1, at: result.receivedAtWallMs });
      }
    };
    /** `count` jobs, `IN_FLIGHT` at a time. */
    const runJobs = async (count: number, into: Run[], prefix: string) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
          while (next < count) {
            const n = next++;
            await startOne(n, into, `${prefix}${n}`);
          }
        }),
      );
    };
    const warmRuns: Run[] = [];
    const warmStarted = Date.now();
    await runJobs(WARMUP_JOBS, warmRuns, 'warm-');
    const warmElapsedMs = Date.now() - warmStarted;

    const gatewayOrigin = stack.gateways[0]!.origin;
    const imageOrigin = stack.services.image![0]!.origin;
    const field = { field: 'imageJobUpdated' };
    // The processes' histograms and counters as the warm-up left them: the stages below are the measured jobs' only.
    const histograms = {
      imageSubgraphStampToEvent: [imageOrigin, 'image_job_event_delay_seconds', {}],
      gatewayArrivalToSent: [gatewayOrigin, 'gateway_subscription_event_delay_seconds', field],
      gatewayResolving: [gatewayOrigin, 'gateway_subscription_event_duration_seconds', field],
      // Every POST each subgraph served (the gateway's entity fetches, and billing's credit calls from the image side).
      userSubgraphRequests: [stack.services.user![0]!.origin, 'http_request_duration_seconds', { method: 'POST' }],
      billingSubgraphRequests: [stack.services.billing![0]!.origin, 'http_request_duration_seconds', { method: 'POST' }],
      imageSubgraphRequests: [imageOrigin, 'http_request_duration_seconds', { method: 'POST' }],
    } satisfies Record<string, [string, string, Record<string, string>]>;
    const histogramsBefore = Object.fromEntries(await Promise.all(Object.entries(histograms).map(async ([key, [origin, name, labels]]) => [key, await histogramRaw(origin, name, labels)] as const)));
    const counters = {
      gatewaySuperseded: () => readMetric(gatewayOrigin, 'gateway_subscription_events_superseded_total', field),
      // Entity fetches answered by an identical one of the same socket already in flight (InFlightFetches).
      gatewayEntityFetchesMergedUser: () => readMetric(gatewayOrigin, 'gateway_subscription_entity_fetches_merged_total', { subgraph: 'user' }),
      gatewayEntityFetchesMergedBilling: () => readMetric(gatewayOrigin, 'gateway_subscription_entity_fetches_merged_total', { subgraph: 'billing' }),
    };
    const countersBefore = Object.fromEntries(await Promise.all(Object.entries(counters).map(async ([key, read]) => [key, (await read()) ?? 0] as const)));
    const cpuBefore = images.workers.map((w) => cpuMs(w.child.pid!));
    const loadBefore = load();
    // Every platform process's CPU over the run (the simulators' process and this one are not the platform's).
    const platform = [['gateway', stack.gateways[0]!] as const, ...(['user', 'billing', 'image'] as const).map((name) => [name, stack.services[name]![0]!] as const)];
    const platformCpuBefore = platform.map(([, p]) => cpuMs(p.child.pid!));
    const benchCpuBefore = process.cpuUsage();
    // The bench's own processes: the platform's, the workers, the simulators' process, MariaDB and Redis (shared with
    // whatever else runs on the machine, so counted as ours); this process is counted from process.cpuUsage.
    const ownPids = [...platform.map(([, p]) => p.child.pid!), ...images.workers.map((w) => w.child.pid!), ...(images.simulatorProcess ? [images.simulatorProcess.child.pid!] : []), ...pidsNamed(['mariadbd', 'mysqld', 'redis-server'])];
    const ownCpu = () => ownPids.reduce((sum, pid) => sum + cpuMsOrZero(pid), 0);
    const ownCpuBefore = ownCpu();
    // The shared servers (MariaDB, Redis: other people's work on them counts here too) and the simulators' process.
    const sharedPids = { mariadb: pidsNamed(['mariadbd', 'mysqld']), redis: pidsNamed(['redis-server']), simulators: images.simulatorProcess ? [images.simulatorProcess.child.pid!] : [] };
    const sharedCpu = () => Object.fromEntries(Object.entries(sharedPids).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + cpuMsOrZero(pid), 0)]));
    const sharedCpuBefore = sharedCpu();
    const machineBefore = machineCpuMs();

    const runs: Run[] = [];
    const started = Date.now();
    await runJobs(JOBS, runs, '');
    const elapsedMs = Date.now() - started;
    const cpuAfter = images.workers.map((w) => cpuMs(w.child.pid!));
    const loadAfter = load();
    const platformCpuAfter = platform.map(([, p]) => cpuMs(p.child.pid!));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const machineAfter = machineCpuMs();
    const busy = machineAfter.busy - machineBefore.busy;
    const all = busy + (machineAfter.idle - machineBefore.idle) + (machineAfter.steal - machineBefore.steal);
    const share = (ms: number) => (all > 0 ? Math.round((Math.max(0, ms) / all) * 1000) / 1000 : 0);
    const sharedCpuAfter = sharedCpu();
    const foreignCpuShare = share(busy - (ownCpu() - ownCpuBefore) - (benchCpu.user + benchCpu.system) / 1000);
    const measuredHistograms = await Promise.all(
      Object.entries(histograms).map(async ([key, [origin, name, labels]]) => [key, await histogramMs(origin, name, labels, histogramsBefore[key])] as const),
    );
    const measuredCounters = await Promise.all(Object.entries(counters).map(async ([key, read]) => [key, ((await read()) ?? 0) - countersBefore[key]!] as const));
    const stages = {
      ...Object.fromEntries(measuredHistograms),
      ...Object.fromEntries(measuredCounters),
      gatewayEventLoopLagP99Ms: Math.round(((await readMetric(gatewayOrigin, 'nodejs_eventloop_lag_p99_seconds')) ?? NaN) * 10_000) / 10,
    };

    // Outcomes from the database; latencies against the workers' stamps.
    const latencies: number[] = [];
    /** The same latencies by the event's status (RUNNING 0.02 is the worker taking the job, later RUNNING are progress steps). */
    const byStatus = new Map<string, number[]>();
    /** The same latencies by the tenth of the run their state change fell in (a warm-up tail shows in the first). */
    const byTenth: number[][] = Array.from({ length: 10 }, () => []);
    let lost = 0;
    let chargedTwice = 0;
    /** Checks a job's outcome; its events' latencies against the worker's stamps (the first event, the state at subscribe time, is not counted). */
    const judge = async (run: Run, onLatency: (kind: string, ms: number, stampAt: number) => void) => {
      // Refused at creation (the client was told): not a lost job, reported as createErrors.
      if (!run.jobId) return;
      const row = await stack.db.imageJob.findUnique({ where: { id: run.jobId }, select: { status: true, creditsCharged: true } });
      const completed = (await Promise.race([run.sub.outcome, Promise.resolve(null)])) !== null;
      if (row?.status !== 'SUCCEEDED' || row.creditsCharged === null || !completed) lost += 1;
      if ((await stack.db.ledgerEntry.count({ where: { referenceId: run.jobId, reason: 'IMAGE_USAGE' } })) > 1) chargedTwice += 1;
      const entries = (await stack.redis.xrange(jobStreamKey(run.jobId), '-', '+')) as [string, string[]][];
      const stamps = entries.map(([, fields]) => ({ status: fields[1]!, progress: Number(fields[3]), at: Number(fields[5]) }));
      for (const arrival of run.arrivals.slice(1)) {
        const stamp = stamps.find((s) => s.status === arrival.status && Math.abs(s.progress - arrival.progress) < 1e-9);
        if (!stamp) continue;
        const kind = arrival.status === 'RUNNING' ? (arrival.progress <= 0.02 ? 'RUNNING (taken)' : 'RUNNING (progress)') : arrival.status;
        onLatency(kind, arrival.at - stamp.at, stamp.at);
      }
    };
    const warmLatencies: number[] = [];
    for (const run of warmRuns) await judge(run, (_kind, ms) => warmLatencies.push(ms));
    for (const run of runs) {
      await judge(run, (kind, ms, stampAt) => {
        latencies.push(ms);
        byStatus.set(kind, [...(byStatus.get(kind) ?? []), ms]);
        byTenth[Math.min(9, Math.max(0, Math.floor(((stampAt - started) / elapsedMs) * 10)))]!.push(ms);
      });
    }
    // Rates over the jobs the platform accepted (refused creations cost little and made no image).
    const accepted = runs.filter((r) => r.jobId).length;
    const report = {
      jobs: JOBS,
      users: USERS,
      workers: 2,
      workerConcurrency: Number(WORKER_CONCURRENCY),
      dashscopeTaskMs: TASK_MS,
      progressMinIntervalMs: Number(PROGRESS_MS),
      accepted,
      jobsLost: lost,
      jobsChargedTwice: chargedTwice,
      createRefused: runs.filter((r) => r.error).length,
      createErrors: runs.filter((r) => r.error).slice(0, 3).map((r) => r.error),
      stateChangeToEventMs: { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      stateChangeToEventMsByStatus: Object.fromEntries(
        [...byStatus].map(([kind, values]) => [kind, { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) }]),
      ),
      stateChangeToEventMsByTenthOfRun: byTenth.map((values) => ({ count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) })),
      stagesMs: stages,
      // Not in the figures above: the jobs run first (IMAGES_WARMUP_JOBS), from the stack's cold start.
      warmUp: {
        jobs: warmRuns.filter((r) => r.jobId).length,
        createRefused: warmRuns.filter((r) => r.error).length,
        seconds: Math.round(warmElapsedMs / 100) / 10,
        stateChangeToEventMs: { count: warmLatencies.length, p50: percentile(warmLatencies, 50), p99: percentile(warmLatencies, 99), max: percentile(warmLatencies, 100) },
      },
      jobsPerMinute: Math.round((accepted / elapsedMs) * 60_000),
      elapsedSeconds: Math.round(elapsedMs / 100) / 10,
      workerCpuMsPerJob: cpuAfter.map((after, i) => Math.round(((after - cpuBefore[i]!) / Math.max(1, accepted)) * 10) / 10),
      cpuMsPerJob: {
        ...Object.fromEntries(platform.map(([name], i) => [name, Math.round(((platformCpuAfter[i]! - platformCpuBefore[i]!) / Math.max(1, accepted)) * 10) / 10])),
        // The clients (this process): what the measuring side itself took from the same two cores.
        benchClients: Math.round(((benchCpu.user + benchCpu.system) / 1000 / Math.max(1, accepted)) * 10) / 10,
        ...Object.fromEntries(Object.keys(sharedPids).map((name) => [name, Math.round(((sharedCpuAfter[name]! - sharedCpuBefore[name]!) / Math.max(1, accepted)) * 10) / 10])),
      },
      inFlight: IN_FLIGHT,
      loadAverage: { before: loadBefore, after: loadAfter },
      // Over the run, from /proc: the machine's busy share, and the share of processes that are not the bench's.
      machine: { busyShare: share(busy), foreignCpuShare, stealShare: share(machineAfter.steal - machineBefore.steal) },
      verdict:
        foreignCpuShare > MAX_FOREIGN
          ? `NOISY: processes outside the bench took ${(foreignCpuShare * 100).toFixed(1)}% of the CPU (over ${(MAX_FOREIGN * 100).toFixed(0)}%)`
          : `quiet: processes outside the bench took ${(foreignCpuShare * 100).toFixed(1)}% of the CPU`,
    };
    console.log(JSON.stringify(report, null, 2));
    const dir = new URL('./results/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL(`images-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await images?.stop();
    await database.drop().catch(() => undefined);
  }
}
