/**
 * `npm run bench -- --images`: image jobs end to end through the gateway, as separate processes (tests/src/image-stack.ts:
 * gateway, user, billing and image subgraphs, two image workers, and the DashScope and OSS simulators in a process of
 * their own, so their work never delays this one, which follows the jobs and stamps their events),
 * on a scratch database and this run's Redis prefix.
 *
 * IMAGES_JOBS (500) jobs from IMAGES_USERS (50) users, each followed with imageJobUpdated over graphql-ws from before
 * it is created. Reports:
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
 * IMAGES_TASK_MS (1000: DashScope simulator's running time per task), IMAGES_IN_FLIGHT (2 workers × IMAGES_WORKER_CONCURRENCY), IMAGES_PROGRESS_MS (1000), IMAGES_BILLING_POOL (10).
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

/** A run in which processes outside the bench used more than this share of the machine's CPU is NOISY (as bench rounds). */
const MAX_FOREIGN = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.05);

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};

/** A Prometheus histogram on a /metrics endpoint, in ms: count, mean and p50/p99 interpolated within its buckets. */
async function histogramMs(origin: string, name: string, labels: Record<string, string> = {}) {
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
    });
    const stack = images.stack;
    const users: ChatUser[] = [];
    for (let i = 0; i < USERS; i++) users.push(await createChatUser(stack, 1_000_000));
    const userClients = users.map((user) => {
      const client = connectClient(stack.wsUrl(), { token: user.token, lazy: false });
      clients.push(client);
      return client;
    });
    console.log(`stack up: ${USERS} users, 2 workers × ${WORKER_CONCURRENCY}, ${JOBS} jobs, DashScope task ${TASK_MS} ms`);
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
    const machineBefore = machineCpuMs();

    const runs: Run[] = [];
    const started = Date.now();
    let next = 0;
    const startOne = async (n: number) => {
      const user = users[n % USERS]!;
      // As a client should: an idempotency key, and the same request again after a timeout (same job, charged once).
      const input = { prompt: `bench image ${n}`, model: 'wanx2.1-t2i-turbo', count: 1, idempotencyKey: `bench-${n}` };
      let job: JobEvent | Error = new Error('not sent');
      for (let attempt = 0; attempt < 3; attempt++) {
        job = await createJob(stack, user, input).catch((error: unknown) => error as Error);
        if (!(job instanceof Error) || !/UPSTREAM_UNAVAILABLE/.test(job.message)) break;
      }
      if (job instanceof Error) {
        runs.push({ sub: null as never, arrivals: [], error: job.message });
        return;
      }
      const run: Run = { jobId: job.id, sub: collect(userClients[n % USERS]!.client, JOB_UPDATES, { jobId: job.id }), arrivals: [] };
      runs.push(run);
      await Promise.race([run.sub.outcome, new Promise((resolve) => setTimeout(resolve, 180_000))]);
      // Arrival times on the wall clock (as the worker stamps its entries), taken by the client when each message came
      // in — not by a timer sampling the results, which cost CPU of its own and stamped events late.
      for (const result of run.sub.results) {
        const event = result.data?.imageJobUpdated;
        run.arrivals.push({ status: event?.status ?? 'ERROR', progress: event?.progress ?? -1, at: performance.timeOrigin + result.receivedAt });
      }
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < JOBS) await startOne(next++);
      }),
    );
    const elapsedMs = Date.now() - started;
    const cpuAfter = images.workers.map((w) => cpuMs(w.child.pid!));
    const loadAfter = load();
    const platformCpuAfter = platform.map(([, p]) => cpuMs(p.child.pid!));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const machineAfter = machineCpuMs();
    const busy = machineAfter.busy - machineBefore.busy;
    const all = busy + (machineAfter.idle - machineBefore.idle) + (machineAfter.steal - machineBefore.steal);
    const share = (ms: number) => (all > 0 ? Math.round((Math.max(0, ms) / all) * 1000) / 1000 : 0);
    const foreignCpuShare = share(busy - (ownCpu() - ownCpuBefore) - (benchCpu.user + benchCpu.system) / 1000);
    const gatewayOrigin = stack.gateways[0]!.origin;
    const imageOrigin = stack.services.image![0]!.origin;
    const field = { field: 'imageJobUpdated' };
    const stages = {
      imageSubgraphStampToEvent: await histogramMs(imageOrigin, 'image_job_event_delay_seconds'),
      gatewayArrivalToSent: await histogramMs(gatewayOrigin, 'gateway_subscription_event_delay_seconds', field),
      gatewayResolving: await histogramMs(gatewayOrigin, 'gateway_subscription_event_duration_seconds', field),
      gatewaySuperseded: (await readMetric(gatewayOrigin, 'gateway_subscription_events_superseded_total', field)) ?? 0,
      // Every POST each subgraph served (the gateway's entity fetches, and billing's credit calls from the image side).
      userSubgraphRequests: await histogramMs(stack.services.user![0]!.origin, 'http_request_duration_seconds', { method: 'POST' }),
      billingSubgraphRequests: await histogramMs(stack.services.billing![0]!.origin, 'http_request_duration_seconds', { method: 'POST' }),
      imageSubgraphRequests: await histogramMs(imageOrigin, 'http_request_duration_seconds', { method: 'POST' }),
      gatewayEventLoopLagP99Ms: Math.round(((await readMetric(gatewayOrigin, 'nodejs_eventloop_lag_p99_seconds')) ?? NaN) * 10_000) / 10,
    };

    // Outcomes from the database; latencies against the workers' stamps.
    const latencies: number[] = [];
    let lost = 0;
    let chargedTwice = 0;
    for (const run of runs) {
      // Refused at creation (the client was told): not a lost job, reported as createErrors.
      if (!run.jobId) continue;
      const row = await stack.db.imageJob.findUnique({ where: { id: run.jobId }, select: { status: true, creditsCharged: true } });
      const completed = (await Promise.race([run.sub.outcome, Promise.resolve(null)])) !== null;
      if (row?.status !== 'SUCCEEDED' || row.creditsCharged === null || !completed) lost += 1;
      if ((await stack.db.ledgerEntry.count({ where: { referenceId: run.jobId, reason: 'IMAGE_USAGE' } })) > 1) chargedTwice += 1;
      const entries = (await stack.redis.xrange(jobStreamKey(run.jobId), '-', '+')) as [string, string[]][];
      const stamps = entries.map(([, fields]) => ({ status: fields[1]!, progress: Number(fields[3]), at: Number(fields[5]) }));
      for (const arrival of run.arrivals.slice(1)) {
        const stamp = stamps.find((s) => s.status === arrival.status && Math.abs(s.progress - arrival.progress) < 1e-9);
        if (stamp) latencies.push(arrival.at - stamp.at);
      }
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
      stagesMs: stages,
      jobsPerMinute: Math.round((accepted / elapsedMs) * 60_000),
      elapsedSeconds: Math.round(elapsedMs / 100) / 10,
      workerCpuMsPerJob: cpuAfter.map((after, i) => Math.round(((after - cpuBefore[i]!) / Math.max(1, accepted)) * 10) / 10),
      cpuMsPerJob: {
        ...Object.fromEntries(platform.map(([name], i) => [name, Math.round(((platformCpuAfter[i]! - platformCpuBefore[i]!) / Math.max(1, accepted)) * 10) / 10])),
        // The clients (this process): what the measuring side itself took from the same two cores.
        benchClients: Math.round(((benchCpu.user + benchCpu.system) / 1000 / Math.max(1, accepted)) * 10) / 10,
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
