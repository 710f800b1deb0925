/**
 * ecosystem.config.cjs: the PM2 process file an operator starts with `npm run start:prod`. First what it declares
 * (against the built entries and docker/compose.yml), then the real thing: the built platform under PM2 in a
 * temporary PM2_HOME — gateway in cluster mode, subgraphs forked — answering through the gateway, then stopped.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateSigningKey } from '@firefly/auth';
import { freePort } from '../../src/processes.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pm2Bin = join(root, 'node_modules/.bin/pm2');

interface PM2App {
  name: string;
  script: string;
  cwd: string;
  exec_mode: 'fork' | 'cluster';
  instances: number;
  kill_timeout: number;
  env: Record<string, string>;
}

/** Evaluates the process file in a fresh node with exactly this environment, as `pm2 start` would. */
function loadEcosystem(env: Record<string, string> = {}, file = join(root, 'ecosystem.config.cjs')): { apps: PM2App[] } | { error: string } {
  const result = spawnSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(file)})))`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  if (result.status !== 0) return { error: result.stderr };
  return JSON.parse(result.stdout) as { apps: PM2App[] };
}

function appsOf(env: Record<string, string> = {}): PM2App[] {
  const loaded = loadEcosystem(env);
  if ('error' in loaded) throw new Error(loaded.error);
  return loaded.apps;
}

describe('ecosystem.config.cjs', () => {
  it('runs every process compose runs, from the bundles their workspaces build', () => {
    // Compose runs with NODE_ENV=development (simulators included).
    const apps = appsOf({ NODE_ENV: 'development' });
    const compose = parseYaml(readFileSync(join(root, 'docker/compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: { target?: string }; command?: string[] }>;
    };
    // The payment simulator needs a key set shared with billing, which compose's setup job (or npm start) makes; the
    // PM2 file leaves it out: under PM2, payments run against the real providers.
    const composeEntries = Object.entries(compose.services)
      .filter(([name, s]) => s.build?.target === 'runtime' && name !== 'payments-simulator')
      .map(([, s]) => s)
      .map((s) => s.command!.at(-1)!)
      .sort();
    expect([...new Set(apps.map((a) => a.script))].sort()).toEqual(composeEntries);
    for (const app of apps) {
      expect(app.cwd, app.name).toBe(root.replace(/\/$/, ''));
      const workspace = app.script.split('/dist/')[0]!;
      const build = (JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build;
      const source = build.split(' ').at(-1)!;
      expect(existsSync(join(root, workspace, source)), `${app.name}: ${workspace}/${source}`).toBe(true);
      expect(`${basename(source, '.ts')}.js`, app.name).toBe(basename(app.script));
    }
  });

  it('runs the gateway in cluster mode with several workers and everything else forked once', () => {
    const apps = appsOf();
    const gateway = apps.find((a) => a.name === 'gateway')!;
    expect([gateway.exec_mode, gateway.instances]).toEqual(['cluster', 2]);
    for (const app of apps.filter((a) => a.name !== 'gateway')) expect([app.name, app.exec_mode, app.instances]).toEqual([app.name, 'fork', 1]);
    expect(appsOf({ PM2_GATEWAY_INSTANCES: '4' }).find((a) => a.name === 'gateway')!.instances).toBe(4);
    expect(loadEcosystem({ PM2_GATEWAY_INSTANCES: 'many' })).toMatchObject({ error: expect.stringContaining('PM2_GATEWAY_INSTANCES must be a whole number') });
    // Image workers: one forked app each, on consecutive health/metrics ports (cluster mode would share one port).
    const workers = appsOf({ PM2_IMAGE_WORKERS: '3', IMAGE_WORKER_PORT: '5100' }).filter((a) => a.script === 'apps/image-worker/dist/main.js');
    expect(workers.map((w) => [w.name, w.exec_mode, w.instances, w.env['IMAGE_WORKER_PORT']])).toEqual([
      ['image-worker-1', 'fork', 1, '5100'],
      ['image-worker-2', 'fork', 1, '5101'],
      ['image-worker-3', 'fork', 1, '5102'],
    ]);
    expect(appsOf().filter((a) => a.script === 'apps/image-worker/dist/main.js').map((w) => [w.name, w.env['IMAGE_WORKER_PORT']])).toEqual([['image-worker', '4005']]);
    expect(loadEcosystem({ PM2_IMAGE_WORKERS: '0' })).toMatchObject({ error: expect.stringContaining('PM2_IMAGE_WORKERS must be a whole number') });
    // PM2 waits longer than a process's own drain (SHUTDOWN_GRACE_SECONDS, 10 s by default) before SIGKILL.
    for (const app of apps) expect(app.kill_timeout, app.name).toBeGreaterThan(10_000);
  });

  it('runs the simulators only without the real service\'s key and outside production', () => {
    const names = (env: Record<string, string>) => appsOf(env).map((a) => a.name);
    const development = { NODE_ENV: 'development' };
    expect(names(development)).toEqual(expect.arrayContaining(['dashscope-simulator', 'oss-simulator']));
    expect(names({ ...development, DASHSCOPE_API_KEY: 'sk-real' })).not.toContain('dashscope-simulator');
    expect(names({ ...development, DASHSCOPE_API_KEY: 'sk-real' })).toContain('oss-simulator');
    expect(names({ ...development, OSS_ACCESS_KEY_ID: 'LTAI' })).not.toContain('oss-simulator');
    expect(names({ NODE_ENV: 'production' }).filter((n) => n.endsWith('-simulator'))).toEqual([]);
    // Unset, the built apps run as production: no simulator either.
    expect(names({}).filter((n) => n.endsWith('-simulator'))).toEqual([]);
  });

  it('takes .env beside it for what the environment leaves unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecosystem-'));
    try {
      copyFileSync(join(root, 'ecosystem.config.cjs'), join(dir, 'ecosystem.config.cjs'));
      writeFileSync(join(dir, '.env'), 'LOG_LEVEL=debug\nDASHSCOPE_API_KEY=sk-from-file\nPM2_GATEWAY_INSTANCES=3\n');
      const loaded = loadEcosystem({ LOG_LEVEL: 'warn' }, join(dir, 'ecosystem.config.cjs'));
      if ('error' in loaded) throw new Error(loaded.error);
      const gateway = loaded.apps.find((a) => a.name === 'gateway')!;
      expect(gateway.instances).toBe(3);
      expect(gateway.env).toEqual({ DASHSCOPE_API_KEY: 'sk-from-file', PM2_GATEWAY_INSTANCES: '3' });
      expect(loaded.apps.find((a) => a.name === 'image-worker')!.env).toEqual({ DASHSCOPE_API_KEY: 'sk-from-file', PM2_GATEWAY_INSTANCES: '3', IMAGE_WORKER_PORT: '4005' });
      expect(loaded.apps.map((a) => a.name)).not.toContain('dashscope-simulator');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface PM2Process {
  name: string;
  pid: number;
  pm2_env: { status: string; exec_mode: string; exit_code?: number };
}

describe('the built platform under PM2', () => {
  const pm2Home = mkdtempSync(join(tmpdir(), 'pm2-'));
  let env: Record<string, string>;
  let gateway: string;
  let imageWorker: string;
  /** A registered user's token (the second test signs up; the image job test uses it). */
  let token = '';

  const pm2 = (...args: string[]) => {
    const result = spawnSync(pm2Bin, args, { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) throw new Error(`pm2 ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  const list = (): PM2Process[] => JSON.parse(pm2('jlist')) as PM2Process[];
  const graphql = async (query: string, token?: string) => {
    const response = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  };

  beforeAll(async () => {
    // The process file runs the bundles: build them (turbo replays its cache when nothing changed).
    const build = spawnSync(
      'npx',
      ['turbo', 'run', 'build', '--output-logs=errors-only', '--filter=@firefly/gateway', '--filter=@firefly/subgraph-*', '--filter=@firefly/image-worker', '--filter=@firefly/dashscope-simulator', '--filter=@firefly/oss-simulator'],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    if (build.status !== 0) throw new Error(`build failed: ${build.stderr}${build.stdout}`);

    const [gatewayPort, userPort, conversationPort, imagePort, billingPort, simulatorPort, ossPort, imageWorkerPort] = await Promise.all(Array.from({ length: 8 }, freePort));
    const key = await generateSigningKey('pm2-test');
    gateway = `http://127.0.0.1:${gatewayPort}`;
    imageWorker = `http://127.0.0.1:${imageWorkerPort}`;
    mkdirSync(pm2Home, { recursive: true });
    env = {
      ...(process.env as Record<string, string>),
      PM2_HOME: pm2Home,
      NODE_ENV: 'test',
      // The worker's metrics are counted exactly, so this platform gets a Redis prefix of its own within the run's:
      // the image queue is otherwise shared by every file of the run, and other files' jobs (some left QUEUED with no
      // worker of their own) were taken by this worker (a fresh-clone run answered 2 SUCCEEDED and 8 FAILED for the
      // one job made here). With its own prefix its sweepers would take other files' rows in the shared database for
      // lost (no record or queue entry under this prefix): they are set not to run while it lives.
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX ?? ''}pm2:`,
      GENERATION_LEASE_SECONDS: '3600',
      GENERATION_SWEEP_INTERVAL_SECONDS: '3600',
      IMAGE_JOB_SWEEP_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'info',
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]),
      GATEWAY_PORT: String(gatewayPort),
      USER_SUBGRAPH_PORT: String(userPort),
      CONVERSATION_SUBGRAPH_PORT: String(conversationPort),
      IMAGE_SUBGRAPH_PORT: String(imagePort),
      BILLING_SUBGRAPH_PORT: String(billingPort),
      IMAGE_WORKER_PORT: String(imageWorkerPort),
      IMAGE_TASK_POLL_INITIAL_MS: '200',
      IMAGE_TASK_POLL_MAX_MS: '500',
      DASHSCOPE_SIMULATOR_PORT: String(simulatorPort),
      DASHSCOPE_BASE_URL: `http://127.0.0.1:${simulatorPort}/api/v1`,
      OSS_SIMULATOR_PORT: String(ossPort),
      // localhost, as the harness uses: with an IP-address endpoint (http://127.0.0.1:…) the OSS simulator answers the
      // worker's signed PUT with SignatureDoesNotMatch (an open problem of the OSS client or simulator).
      OSS_ENDPOINT: `http://localhost:${ossPort}`,
      USER_SUBGRAPH_URL: `http://127.0.0.1:${userPort}/graphql`,
      CONVERSATION_SUBGRAPH_URL: `http://127.0.0.1:${conversationPort}/graphql`,
      IMAGE_SUBGRAPH_URL: `http://127.0.0.1:${imagePort}/graphql`,
      BILLING_SUBGRAPH_URL: `http://127.0.0.1:${billingPort}/graphql`,
    };
    delete env['DASHSCOPE_API_KEY'];
    delete env['OSS_ACCESS_KEY_ID'];
    pm2('start', 'ecosystem.config.cjs');

    // Ready = the gateway's /readyz: Redis and every subgraph answer.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ready = await fetch(`${gateway}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`the platform under PM2 did not become ready:\n${pm2('logs', '--nostream', '--lines', '40')}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 420_000);

  afterAll(() => {
    // Whatever happened, no daemon or app outlives the test.
    if (env) spawnSync(pm2Bin, ['kill'], { cwd: root, env, timeout: 60_000 });
    rmSync(pm2Home, { recursive: true, force: true });
  }, 90_000);

  it('runs two gateway workers in cluster mode and each other process once, all online', () => {
    const processes = list();
    const byName = (name: string) => processes.filter((p) => p.name === name);
    expect(byName('gateway').map((p) => [p.pm2_env.status, p.pm2_env.exec_mode])).toEqual([
      ['online', 'cluster_mode'],
      ['online', 'cluster_mode'],
    ]);
    for (const name of ['user', 'conversation', 'image', 'billing', 'image-worker', 'dashscope-simulator', 'oss-simulator']) {
      expect(byName(name).map((p) => [p.pm2_env.status, p.pm2_env.exec_mode]), name).toEqual([['online', 'fork_mode']]);
    }
  });

  it('answers queries through the gateway, and a token the user subgraph signed is accepted', async () => {
    const models = await graphql('{ chatModels { id } }');
    expect(models.errors).toBeUndefined();
    expect(models.data?.['chatModels']?.length).toBeGreaterThan(0);

    const email = `pm2-${randomBytes(4).toString('hex')}@example.com`;
    const registered = await graphql(`mutation { register(input: { email: "${email}", password: "a long passphrase for pm2", displayName: "PM2" }) { accessToken } }`);
    expect(registered.errors).toBeUndefined();
    token = registered.data!['register'].accessToken as string;
    // Several requests, so both gateway workers are likely to serve one; each must accept the token.
    for (let i = 0; i < 6; i += 1) {
      const me = await graphql('{ me { email } }', token);
      expect(me).toEqual({ data: { me: { email } } });
    }
  });

  it('runs an image job on the image worker it started: queued by the image subgraph, painted, stored, charged', async () => {
    expect((await fetch(`${imageWorker}/readyz`)).status).toBe(200);
    const created = await graphql('mutation { createImageJob(input: { prompt: "a lighthouse under PM2", model: "wanx2.1-t2i-turbo", count: 1 }) { id status } }', token);
    expect(created.errors).toBeUndefined();
    const id = created.data!['createImageJob'].id as string;
    const deadline = Date.now() + 60_000;
    let job: { status: string; creditsCharged: number | null; error: string | null; images: { url: string }[] } | undefined;
    while (Date.now() < deadline) {
      job = (await graphql(`{ imageJob(id: "${id}") { status creditsCharged error images { url } } }`, token)).data?.['imageJob'];
      if (job && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(job.status) && job.creditsCharged !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const log = () => readFileSync(join(pm2Home, 'logs', 'image-worker-out.log'), 'utf8').split('\n').slice(-20).join('\n');
    expect(job, job?.status === 'SUCCEEDED' ? '' : log()).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 4, error: null });
    expect(job!.images).toHaveLength(1);
    // The worker's own metrics: the job it finished.
    expect(await (await fetch(`${imageWorker}/metrics`)).text()).toMatch(/^image_jobs_finished_total\{status="SUCCEEDED",service="image-worker"\} 1$/m);
    }, 90_000);

  it('stops every process cleanly: exit code 0, ports released', async () => {
    pm2('stop', 'ecosystem.config.cjs');
    const processes = list();
    expect(processes.length).toBe(9);
    for (const p of processes) expect([p.name, p.pm2_env.status, p.pm2_env.exit_code]).toEqual([p.name, 'stopped', 0]);
    // Each process logged its own orderly shutdown (server-kit: "shutting down", then "stopped").
    const gatewayLog = readFileSync(join(pm2Home, 'logs', 'gateway-out.log'), 'utf8');
    expect(gatewayLog.match(/"msg":"stopped"/g)?.length).toBe(2);
    // The cluster's listening socket belongs to the PM2 daemon: it is released once the daemon is gone.
    pm2('kill');
    await expect(fetch(`${gateway}/healthz`)).rejects.toThrow();
  });

  it('a built process started without NODE_ENV runs as production: it refuses the development secret instead of using it', () => {
    for (const entry of ['gateway/dist/main.js', 'subgraphs/billing/dist/main.js']) {
      const result = spawnSync(process.execPath, [entry], { cwd: root, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 });
      expect(result.status, entry).not.toBe(0);
      expect(`${result.stderr}${result.stdout}`, entry).toMatch(/INTERNAL_TOKEN_SECRET: must be set to a random secret in production/);
    }
  });
});
