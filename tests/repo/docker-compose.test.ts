// Validates docker/compose.yml (and what it points at) without a Docker daemon:
// 1. against the Compose Specification JSON schema, vendored in docker/compose-spec.schema.json — always runs;
// 2. with `docker compose config` / `docker-compose config` when such a binary is installed — skipped otherwise;
// 3. against this repository: every app built from docker/Dockerfile, ports from docs/architecture.md, entries in real
//    workspaces, the variables each service sets against those its process reads, the setup job (secrets, migrate,
//    seed), healthchecks and Prometheus targets against the real routes of the running processes, mounted files.
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { knownVariables } from '@firefly/config';
import { loadGatewayConfig } from '@firefly/gateway';
import { loadBillingConfig } from '@firefly/subgraph-billing';
import { loadConversationConfig } from '@firefly/subgraph-conversation';
import { loadImageConfig } from '@firefly/subgraph-image';
import { loadUserConfig } from '@firefly/subgraph-user';
import { loadImageWorkerConfig } from '@firefly/image-worker';
import { startSupergraph, type Supergraph } from '../src/harness.ts';
import { startImageWorker, type TestImageWorker } from '../src/image-helpers.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dockerDir = join(root, 'docker');
const composePath = join(dockerDir, 'compose.yml');
const composeText = readFileSync(composePath, 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** YAML → plain data the way Compose reads it (merge keys `<<:` expanded). */
function loadCompose(text: string): ComposeFile {
  return parseYaml(text, { merge: true }) as ComposeFile;
}

// Go-style durations (`10s`, `1m30s`), Compose's port syntax and CIDR subnets; the schema names these formats.
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const PORT_RANGE = String.raw`\d{1,5}(-\d{1,5})?`;
const HOST_IP = String.raw`(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])`;
const PORTS = new RegExp(String.raw`^((${HOST_IP}:)?(${PORT_RANGE})?:)?${PORT_RANGE}(/(tcp|udp|sctp))?$`);
const EXPOSE = new RegExp(String.raw`^${PORT_RANGE}(/(tcp|udp|sctp))?$`);

/** The vendored schema carries draft-04 `id` annotations, which Ajv refuses; they identify nothing we use. */
function dropDraft4Ids(node: unknown): void {
  if (Array.isArray(node)) node.forEach(dropDraft4Ids);
  else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (typeof record['id'] === 'string') delete record['id'];
    Object.values(record).forEach(dropDraft4Ids);
  }
}

function createValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(dockerDir, 'compose-spec.schema.json'), 'utf8')) as Record<string, unknown>;
  // The schema's `$schema` URL is not the exact id Ajv registers draft 2019-09 under; Ajv2019 validates as 2019-09.
  delete schema['$schema'];
  dropDraft4Ids(schema);
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // Formats apply to strings; numeric ports are plain integers in the schema.
  ajv.addFormat('duration', DURATION);
  ajv.addFormat('ports', PORTS);
  ajv.addFormat('expose', EXPOSE);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  return ajv.compile(schema);
}
const validate = createValidator();

function schemaErrors(compose: unknown): string[] {
  if (validate(compose)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/** The first Compose CLI present: Docker's plugin (`docker compose`) or Debian's `docker-compose`. */
function findComposeCli(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const [bin, ...args] = command as [string, ...string[]];
    const probe = spawnSync(bin, [...args, 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return command;
  }
  return undefined;
}
const composeCli = findComposeCli();

describe('docker/compose.yml against the compose-spec JSON schema', () => {
  it('is valid', () => {
    expect(schemaErrors(loadCompose(composeText))).toEqual([]);
  });

  it('fails on a broken copy (the check is not vacuous)', () => {
    const broken: [string, (c: ComposeFile) => void, RegExp][] = [
      ['unknown service key', (c) => Object.assign(c.services['gateway']!, { portz: ['4000:4000'] }), /must NOT have additional properties/],
      ['healthcheck interval without a unit', (c) => Object.assign(c.services['redis']!.healthcheck!, { interval: '5 seconds' }), /must match format "duration"/],
      ['bad depends_on condition', (c) => Object.assign(c.services['gateway']!, { depends_on: { user: { condition: 'service_ready' } } }), /must be equal to one of the allowed values/],
      ['bad port', (c) => Object.assign(c.services['gateway']!, { ports: ['4000:4000:4000:4000'] }), /must match format "ports"/],
      ['command as a number', (c) => Object.assign(c.services['user']!, { command: 42 }), /must be (string|array)/],
      ['unknown top-level key', (c) => Object.assign(c, { servises: {} }), /must NOT have additional properties/],
    ];
    for (const [what, breakIt, expected] of broken) {
      const compose = loadCompose(composeText);
      breakIt(compose);
      const errors = schemaErrors(compose);
      expect(errors.length, what).toBeGreaterThan(0);
      expect(errors.join('\n'), what).toMatch(expected);
    }
    // …and on broken YAML text, through the same path the file takes.
    expect(() => loadCompose(composeText.replace('services:', 'services:\n  - oops\n  bad'))).toThrow();
  });
});

describe.skipIf(composeCli === undefined)(
  `docker/compose.yml with the Compose CLI${composeCli ? '' : ' (skipped: neither `docker compose` nor `docker-compose` is installed; the JSON-schema check above still ran)'}`,
  () => {
    const run = (file: string) =>
      spawnSync(composeCli![0]!, [...composeCli!.slice(1), '-f', file, 'config', '--quiet'], { encoding: 'utf8', cwd: dockerDir });

    it('accepts the file', () => {
      const result = run(composePath);
      expect(result.stderr).not.toMatch(/error/i);
      expect(result.status).toBe(0);
    });

    it('refuses a broken copy', () => {
      const dir = mkdtempSync(join(tmpdir(), 'compose-'));
      try {
        const broken = join(dir, 'compose.yml');
        writeFileSync(broken, composeText.replace('  redis:\n    image: redis:7-alpine', '  redis:\n    image: redis:7-alpine\n    portz: [1]'));
        expect(run(broken).status).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describe('docker/compose.yml against this repository', () => {
  const compose = loadCompose(composeText);
  const services = compose.services;

  /** Every process built from docker/Dockerfile: its bundle, port, and the route its healthcheck probes. */
  const APPS: Record<string, { entry: string; port: number; health: '/readyz' | '/healthz'; secrets: boolean; published?: false }> = {
    gateway: { entry: 'gateway/dist/main.js', port: 4000, health: '/readyz', secrets: true },
    user: { entry: 'subgraphs/user/dist/main.js', port: 4001, health: '/readyz', secrets: true },
    conversation: { entry: 'subgraphs/conversation/dist/main.js', port: 4002, health: '/readyz', secrets: true },
    image: { entry: 'subgraphs/image/dist/main.js', port: 4003, health: '/readyz', secrets: true },
    billing: { entry: 'subgraphs/billing/dist/main.js', port: 4004, health: '/readyz', secrets: true },
    // Scaled with --scale, so its port is not published (Prometheus finds the replicas by DNS).
    'image-worker': { entry: 'apps/image-worker/dist/main.js', port: 4005, health: '/readyz', secrets: true, published: false },
    // The simulator has no dependencies to be ready for and serves /healthz only.
    'dashscope-simulator': { entry: 'simulators/dashscope/dist/main.js', port: 4010, health: '/healthz', secrets: false },
    'oss-simulator': { entry: 'simulators/oss/dist/main.js', port: 4011, health: '/healthz', secrets: false },
    'payments-simulator': { entry: 'simulators/payments/dist/main.js', port: 4012, health: '/healthz', secrets: false },
  };
  const isSimulator = (name: string) => name.endsWith('-simulator');

  it('has MySQL 8 and Redis 7 with healthchecks, published on loopback with the README\'s credentials', () => {
    expect(services['mysql']?.image).toBe('mysql:8.4');
    expect(services['mysql']?.healthcheck?.test.join(' ')).toMatch(/mysqladmin ping -h 127\.0\.0\.1 -uroot --silent/);
    expect(services['redis']?.image).toBe('redis:7-alpine');
    expect(services['redis']?.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
    expect(services['mysql']?.ports).toEqual(['127.0.0.1:3306:3306']);
    expect(services['redis']?.ports).toEqual(['127.0.0.1:6379:6379']);
    // The README's and .env.example's defaults: root with an empty password on 127.0.0.1:3306, Redis on :6379.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/`127\.0\.0\.1:3306` user\s+`root` with an empty password/);
    expect(readme).toContain('docker compose -f docker/compose.yml up -d mysql redis');
    const defaults = new URL(/^DATABASE_URL=(\S+)/m.exec(readFileSync(join(root, '.env.example'), 'utf8'))![1]!);
    expect([defaults.username, defaults.password, defaults.port]).toEqual(['root', '', '3306']);
    expect(services['mysql']?.environment).toMatchObject({ MYSQL_ALLOW_EMPTY_PASSWORD: 'yes', MYSQL_DATABASE: 'firefly' });
    expect(services['mysql']?.environment).not.toHaveProperty('MYSQL_ROOT_PASSWORD');
    for (const name of ['setup', 'user', 'conversation', 'image', 'billing', 'image-worker']) {
      const url = new URL(services[name]!.environment!['DATABASE_URL']!);
      expect([url.hostname, url.username, url.password, url.pathname], name).toEqual(['mysql', 'root', '', '/firefly']);
    }
    expect(services['prometheus']?.image).toMatch(/^prom\/prometheus:v\d/);
    expect(services['grafana']?.image).toMatch(/^grafana\/grafana:\d/);
  });

  it('builds every app from docker/Dockerfile and runs its bundle from a real workspace', () => {
    const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const [name, { entry, port, health, published }] of Object.entries(APPS)) {
      const service = services[name];
      expect(service, name).toBeDefined();
      expect(service?.build, name).toEqual({ context: '..', dockerfile: 'docker/Dockerfile', target: 'runtime' });
      expect(service?.command?.at(0), name).toBe('node');
      expect(service?.command?.at(-1), name).toBe(entry);
      const workspace = entry.split('/dist/')[0]!;
      expect(existsSync(join(root, workspace, 'package.json')), `${name}: ${workspace}/package.json`).toBe(true);
      // The workspace's build script bundles a source that exists into exactly this entry.
      const build = (JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')) as { scripts?: { build?: string } }).scripts?.build ?? '';
      const source = build.split(' ').at(-1) ?? '';
      expect(source.endsWith('.ts') && existsSync(join(root, workspace, source)), `${name}: build script bundles an existing source`).toBe(true);
      expect(basename(source, '.ts'), `${name}: bundle name`).toBe(basename(entry, '.js'));
      expect(
        workspaces.workspaces.some((glob) => glob === workspace || (glob.endsWith('/*') && dirname(workspace) === glob.slice(0, -2))),
        `${name}: ${workspace} is an npm workspace`,
      ).toBe(true);
      if (published === false) expect(service?.ports, `${name} publishes no port`).toBeUndefined();
      else expect(service?.ports?.at(0)?.endsWith(`:${port}:${port}`) || service?.ports?.at(0) === `${port}:${port}`, `${name} port`).toBe(true);
      expect(healthcheckUrl(service!), `${name} healthcheck`).toBe(`http://127.0.0.1:${port}${health}`);
    }
    // Only the gateway faces clients; subgraph ports are bound to loopback (docs/architecture.md, "Trust").
    for (const name of ['user', 'conversation', 'image', 'billing', 'dashscope-simulator', 'oss-simulator', 'payments-simulator']) expect(services[name]?.ports?.[0]).toMatch(/^127\.0\.0\.1:/);
    expect(services['gateway']?.ports).toEqual(['4000:4000']);
  });

  it('shares one set of development secrets: the setup job writes them, every app preloads them', () => {
    const setup = services['setup']!;
    expect(setup.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile', target: 'build' });
    const script = setup.command!.join(' ');
    const secretsFile = /scripts\/dev-secrets\.ts (\S+)/.exec(script)?.[1];
    expect(secretsFile).toBeDefined();
    expect(setup.volumes).toContain(`dev-secrets:${dirname(secretsFile!)}`);
    const preload = readFileSync(join(dockerDir, 'dev-secrets.mjs'), 'utf8');
    expect(preload).toContain(`'${secretsFile}'`);
    // The payment simulator reads the simulator half of the key set the setup job writes beside the secrets.
    expect(services['payments-simulator']?.environment?.['PAYMENT_SIMULATOR_KEYS_FILE']).toBe(join(dirname(secretsFile!), 'payment-dev-keys.json'));
    expect(services['payments-simulator']?.volumes).toContain(`dev-secrets:${dirname(secretsFile!)}:ro`);
    expect(services['payments-simulator']?.depends_on).toEqual({ setup: { condition: 'service_completed_successfully' } });
    // Billing reaches it through the merchant settings in the secrets file (PAYMENT_SIMULATOR_URL, keys), and is
    // notified through the gateway.
    expect(services['billing']?.environment?.['PAYMENT_NOTIFY_BASE_URL']).toBe('http://gateway:4000');
    for (const [name, { secrets }] of Object.entries(APPS)) {
      const command = services[name]!.command!;
      if (!secrets) {
        expect(command, name).not.toContain('--import');
        continue;
      }
      const preloaded = command[command.indexOf('--import') + 1];
      expect(preloaded, name).toBe('./docker/dev-secrets.mjs');
      expect(existsSync(join(root, preloaded!)), `${name}: ${preloaded}`).toBe(true);
      expect(services[name]!.volumes, name).toContain(`dev-secrets:${dirname(secretsFile!)}:ro`);
    }
  });

  it('migrates and seeds in a one-shot job that every app but the simulator waits for', () => {
    const setup = services['setup']!;
    expect(setup.command?.slice(0, 2)).toEqual(['sh', '-c']);
    const steps = setup.command![2]!.split('&&').map((s) => s.trim());
    expect(steps.slice(1)).toEqual(['npm run --silent db:migrate', 'npm run --silent db:seed']);
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['db:migrate']).toBe('tsx scripts/db-migrate.ts');
    expect(scripts['db:seed']).toBe('tsx scripts/db-seed.ts');
    expect(existsSync(join(root, steps[0]!.split(' ')[2]!)), steps[0]).toBe(true);
    expect(setup.depends_on).toEqual({ mysql: { condition: 'service_healthy' } });
    for (const name of Object.keys(APPS).filter((n) => !isSimulator(n))) {
      expect(services[name]?.depends_on, name).toMatchObject({ setup: { condition: 'service_completed_successfully' } });
    }
  });

  it('points services at each other by their compose names', () => {
    const env = services['gateway']?.environment ?? {};
    expect(env['USER_SUBGRAPH_URL']).toBe('http://user:4001/graphql');
    expect(env['CONVERSATION_SUBGRAPH_URL']).toBe('http://conversation:4002/graphql');
    expect(env['IMAGE_SUBGRAPH_URL']).toBe('http://image:4003/graphql');
    expect(env['BILLING_SUBGRAPH_URL']).toBe('http://billing:4004/graphql');
    expect(new URL(env['REDIS_URL']!).hostname).toBe('redis');
    expect(env['HOST']).toBe('0.0.0.0');
    const conversation = services['conversation']?.environment ?? {};
    expect(conversation['BILLING_SUBGRAPH_URL']).toBe('http://billing:4004/graphql');
    // Chat goes to the simulator's container unless docker/.env says otherwise, and the simulator listens there.
    expect(conversation['DASHSCOPE_BASE_URL']).toBe('${DASHSCOPE_BASE_URL:-http://dashscope-simulator:4010/api/v1}');
    expect(services['dashscope-simulator']?.environment).toMatchObject({ DASHSCOPE_SIMULATOR_HOST: '0.0.0.0', DASHSCOPE_SIMULATOR_PORT: '4010' });
    for (const name of Object.keys(APPS).filter((n) => !isSimulator(n))) expect(services[name]?.environment?.['HOST'], name).toBe('0.0.0.0');
    // Images go to the OSS simulator's container; signed URLs name the endpoint a browser on the host reaches.
    const image = services['image']?.environment ?? {};
    expect(image['OSS_ENDPOINT']).toBe('${OSS_ENDPOINT:-http://oss-simulator:4011}');
    expect(image['OSS_PUBLIC_ENDPOINT']).toBe('${OSS_PUBLIC_ENDPOINT:-http://localhost:4011}');
    expect(services['oss-simulator']?.environment).toMatchObject({ OSS_SIMULATOR_HOST: '0.0.0.0', OSS_SIMULATOR_PORT: '4011' });
    // The image worker calls DashScope and OSS exactly where the subgraphs do, and settles credits with billing.
    const worker = services['image-worker']?.environment ?? {};
    expect(worker['BILLING_SUBGRAPH_URL']).toBe('http://billing:4004/graphql');
    expect(worker['IMAGE_WORKER_PORT']).toBe('4005');
    for (const variable of ['DASHSCOPE_API_KEY', 'DASHSCOPE_BASE_URL']) expect(worker[variable], variable).toBe(conversation[variable]);
    for (const variable of ['OSS_ACCESS_KEY_ID', 'OSS_ACCESS_KEY_SECRET', 'OSS_ENDPOINT', 'OSS_PUBLIC_ENDPOINT']) expect(worker[variable], variable).toBe(image[variable]);
  });

  it('sets only variables the process reads, and each of them is one it reads', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!(name in READS)) continue;
      const reads = READS[name]!();
      const unread = Object.keys(service.environment ?? {}).filter((variable) => !reads.has(variable)).sort();
      expect(unread, `${name} sets variables nothing in it reads`).toEqual([]);
    }
    // Every service built from our Dockerfile is covered.
    for (const [name, service] of Object.entries(services)) if (service.build) expect(READS, name).toHaveProperty(name);
    // The check can fail: the variables the issue found compose setting, which no code reads.
    expect(READS['conversation']!().has('DASHSCOPE_HTTP_BASE_URL')).toBe(false);
    expect(READS['conversation']!().has('DASHSCOPE_COMPATIBLE_BASE_URL')).toBe(false);
    expect(READS['dashscope-simulator']!().has('HOST')).toBe(false);
  });

  it('only depends on services that exist, waiting for health where there is a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on.map((d) => [d, undefined] as const) : Object.entries(service.depends_on ?? {}).map(([d, v]) => [d, v.condition] as const);
      for (const [dep, condition] of deps) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]?.healthcheck, `${dep} has a healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[dep]?.restart, `${dep} is one-shot`).toBe('no');
      }
    }
    expect(services['gateway']?.depends_on).toMatchObject({ user: { condition: 'service_healthy' }, billing: { condition: 'service_healthy' } });
    expect(services['conversation']?.depends_on).toMatchObject({ 'dashscope-simulator': { condition: 'service_healthy' } });
    expect(services['image']?.depends_on).toMatchObject({ 'oss-simulator': { condition: 'service_healthy' } });
    expect(services['image-worker']?.depends_on).toMatchObject({
      billing: { condition: 'service_healthy' },
      'dashscope-simulator': { condition: 'service_healthy' },
      'oss-simulator': { condition: 'service_healthy' },
    });
  });

  it('mounts files that exist and declares its named volumes', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(dockerDir, source)), `${name}: ${source}`).toBe(true);
        else expect(compose.volumes ?? {}, `${name}: volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('has Prometheus scrape every app that serves /metrics, and nothing else', () => {
    const expected = Object.entries(APPS).filter(([name]) => !isSimulator(name)).map(([name, { port }]) => `${name}:${port}`);
    expect(scrapeTargets().map((t) => t.target).sort()).toEqual(expected.sort());
    expect(scrapeTargets().every((t) => t.path === '/metrics')).toBe(true);
  });

  describe('healthchecks and scrape targets against the real processes', () => {
    let supergraph: Supergraph;
    let worker: TestImageWorker;
    let origins: Record<string, string>;
    beforeAll(async () => {
      supergraph = await startSupergraph();
      worker = await startImageWorker(supergraph);
      origins = {
        'image-worker': new URL(worker.url).origin,
        gateway: new URL(supergraph.gatewayUrl).origin,
        ...Object.fromEntries(Object.entries(supergraph.subgraphUrls).map(([name, url]) => [name, new URL(url).origin])),
        'dashscope-simulator': supergraph.simulator.url,
        'oss-simulator': supergraph.oss.url,
        'payments-simulator': supergraph.payments.url,
      };
      // Starting the platform on a loaded machine (several suites at once) can take longer than the default hook timeout.
    }, 180_000);
    afterAll(async () => {
      await worker?.stop();
      await supergraph?.stop();
    });

    it('every healthcheck URL answers 200 on the process it checks', async () => {
      for (const [name, service] of Object.entries(services)) {
        if (!(name in APPS)) continue;
        const path = new URL(healthcheckUrl(service)!).pathname;
        // A readiness probe may say 503 for a moment on a busy machine (a dependency check timing out); what this
        // checks is that the route exists and becomes ready, so it asks again for a while before it fails.
        let status = 0;
        for (let attempt = 0; attempt < 30; attempt++) {
          status = (await fetch(new URL(path, origins[name]))).status;
          if (status !== 503) break;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(`${name} ${path} ${status}`).toBe(`${name} ${path} 200`);
      }
      // …and the probe can fail: a route no process serves is a 404, and the simulator serves no /readyz.
      expect((await fetch(new URL('/ready', origins['gateway']))).status).toBe(404);
      expect((await fetch(new URL('/readyz', origins['dashscope-simulator']))).status).toBe(404);
    });

    it('docker/smoke.mjs (CI\'s compose smoke test) passes against the platform, and fails where there is none', async () => {
      const smoke = (gateway: string) =>
        new Promise<{ code: number | null; output: string }>((resolve) => {
          const child = spawn(process.execPath, [join(dockerDir, 'smoke.mjs'), gateway], { env: { PATH: process.env.PATH ?? '', SMOKE_TIMEOUT_MS: '20000' } });
          let output = '';
          child.stdout.on('data', (chunk) => (output += chunk));
          child.stderr.on('data', (chunk) => (output += chunk));
          child.on('close', (code) => resolve({ code, output }));
        });
      const passed = await smoke(origins['gateway']!);
      expect(passed.output).toMatch(/answer COMPLETED/);
      expect(passed.code, passed.output).toBe(0);
      const failed = await smoke('http://127.0.0.1:9');
      expect(failed.code).toBe(1);
      expect(failed.output).toMatch(/smoke: FAILED/);
    });

    it('every Prometheus target serves /metrics, and the simulator does not', async () => {
      for (const { target, path, service } of scrapeTargets()) {
        const name = target.split(':')[0]!;
        const response = await fetch(new URL(path, origins[name]));
        expect(`${target} ${response.status}`).toBe(`${target} 200`);
        const text = await response.text();
        expect(text).toContain('process_cpu_user_seconds_total');
        // The target's `service` label is the one the process gives its own series (honor_labels keeps it).
        expect(`${target} ${/service="([^"]+)"/.exec(text)?.[1]}`).toBe(`${target} ${service}`);
      }
      expect((await fetch(new URL('/metrics', origins['dashscope-simulator']))).status).toBe(404);
    });
  });

  it('uses a multi-stage Dockerfile on node:20-bookworm-slim with npm ci and npm run build', () => {
    const dockerfile = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^CMD \["node", .*"gateway\/dist\/main\.js"\]$/m);
    // Every file the Dockerfile copies by name exists.
    for (const [, files] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const file of files!.split(' ').filter((f) => f !== '.' && !f.startsWith('--'))) {
        expect(existsSync(join(root, file)), `COPY ${file}`).toBe(true);
      }
    }
  });
});

describe('docker/dev-secrets.mjs and scripts/dev-secrets.ts', () => {
  it('write one set of secrets once and preload it into processes without overriding the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-secrets-'));
    try {
      const file = join(dir, 'firefly', 'dev-secrets.json');
      const write = () => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dev-secrets.ts', file], { cwd: root, encoding: 'utf8' });
      expect(write().status).toBe(0);
      const first = readFileSync(file, 'utf8');
      const secrets = JSON.parse(first) as Record<string, string>;
      expect(Object.keys(secrets)).toEqual(expect.arrayContaining(['ACCESS_TOKEN_KEYS', 'INTERNAL_TOKEN_SECRET', 'ALIPAY_APP_ID', 'WECHATPAY_MCHID', 'PAYMENT_SIMULATOR_URL']));
      expect(secrets['PAYMENT_SIMULATOR_URL']).toBe('http://payments-simulator:4012');
      // The simulator's half beside it, matching the merchant's half (the same app and merchant ids).
      const paymentKeys = JSON.parse(readFileSync(join(dirname(file), 'payment-dev-keys.json'), 'utf8')) as { alipay: { appId: string }; wechat: { mchid: string } };
      expect([paymentKeys.alipay.appId, paymentKeys.wechat.mchid]).toEqual([secrets['ALIPAY_APP_ID'], secrets['WECHATPAY_MCHID']]);
      // Every variable in the file is one billing or the access-token code reads.
      const reads = new Set([...READS['billing']!(), ...READS['user']!(), ...READS['gateway']!()]);
      expect(Object.keys(secrets).filter((k) => !reads.has(k))).toEqual([]);
      expect(secrets['INTERNAL_TOKEN_SECRET']!.length).toBeGreaterThanOrEqual(32);
      expect(JSON.parse(secrets['ACCESS_TOKEN_KEYS']!)).toMatchObject([{ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' }]);
      // A second run (every `docker compose up`) keeps them.
      expect(write().stdout).toMatch(/keeping/);
      expect(readFileSync(file, 'utf8')).toBe(first);

      const read = (env: Record<string, string>) =>
        spawnSync(process.execPath, ['--import', './docker/dev-secrets.mjs', '-e', 'process.stdout.write(JSON.stringify([process.env.INTERNAL_TOKEN_SECRET, process.env.ACCESS_TOKEN_KEYS]))'], {
          cwd: root,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', FIREFLY_DEV_SECRETS_FILE: file, ...env },
        }).stdout;
      // Compose passes empty values for unset ${…:-}: the file fills them.
      expect(JSON.parse(read({ INTERNAL_TOKEN_SECRET: '', ACCESS_TOKEN_KEYS: '' }))).toEqual([secrets['INTERNAL_TOKEN_SECRET'], secrets['ACCESS_TOKEN_KEYS']]);
      // docker/.env wins.
      expect(JSON.parse(read({ INTERNAL_TOKEN_SECRET: 'x'.repeat(40) }))).toEqual(['x'.repeat(40), secrets['ACCESS_TOKEN_KEYS']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The URL a compose healthcheck fetches (`node -e "fetch('…')"`). */
function healthcheckUrl(service: Service): string | undefined {
  return /fetch\('([^']+)'\)/.exec(service.healthcheck?.test.join(' ') ?? '')?.[1];
}

/**
 * Prometheus's targets on the compose network: static ones with their `service` label, and DNS-discovered ones (a
 * scaled service: `name:port`) with the `service` a relabel rule gives the name.
 */
function scrapeTargets(): { target: string; path: string; service?: string }[] {
  const prometheus = parseYaml(readFileSync(join(dockerDir, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      static_configs?: { targets: string[]; labels?: Record<string, string> }[];
      dns_sd_configs?: { names: string[]; type: string; port: number }[];
      relabel_configs?: { source_labels?: string[]; regex?: string; target_label: string; replacement?: string }[];
    }[];
  };
  return prometheus.scrape_configs
    .filter((c) => c.job_name !== 'prometheus')
    .flatMap((c) => [
      ...(c.static_configs ?? []).flatMap((s) => s.targets.map((target) => ({ target, path: c.metrics_path ?? '/metrics', service: s.labels?.['service'] }))),
      ...(c.dns_sd_configs ?? []).flatMap((d) =>
        d.names.map((name) => {
          const relabel = c.relabel_configs?.find((r) => r.target_label === 'service' && r.source_labels?.[0] === '__meta_dns_name' && new RegExp(`^(?:${r.regex})$`).test(name));
          return { target: `${name}:${d.port}`, path: c.metrics_path ?? '/metrics', service: relabel?.replacement };
        }),
      ),
    ]);
}

/** What each process built from docker/Dockerfile reads from its environment. */
const READS: Record<string, () => Set<string>> = {
  gateway: () => variablesOf(loadGatewayConfig),
  user: () => variablesOf(loadUserConfig),
  conversation: () => variablesOf(loadConversationConfig),
  image: () => variablesOf(loadImageConfig),
  billing: () => variablesOf(loadBillingConfig),
  'image-worker': () => variablesOf(loadImageWorkerConfig),
  // The simulator parses its environment in its entry; the setup job runs scripts that read process.env.
  'dashscope-simulator': () => namesIn(readFileSync(join(root, 'simulators/dashscope/src/main.ts'), 'utf8'), /\b(?:env\.|int\(')([A-Z][A-Z0-9_]+)/g),
  'oss-simulator': () => namesIn(readFileSync(join(root, 'simulators/oss/src/main.ts'), 'utf8'), /\benv\.([A-Z][A-Z0-9_]+)/g),
  'payments-simulator': () => namesIn(readFileSync(join(root, 'simulators/payments/src/main.ts'), 'utf8'), /\benv\.([A-Z][A-Z0-9_]+)/g),
  setup: () =>
    new Set(['db-migrate', 'db-seed', 'dev-secrets'].flatMap((script) => [...namesIn(readFileSync(join(root, `scripts/${script}.ts`), 'utf8'), /process\.env\.([A-Z][A-Z0-9_]+)/g)])),
};

/** The variables one configuration loader parses (@firefly/config records each name it is asked for). */
function variablesOf(load: (env: Record<string, string>) => unknown): Set<string> {
  knownVariables.clear();
  load({});
  return new Set(knownVariables);
}

function namesIn(source: string, pattern: RegExp): Set<string> {
  return new Set([...source.matchAll(pattern)].map((m) => m[1]!));
}

describe('.github/workflows/ci.yml', () => {
  interface Step { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; if?: string }
  interface Job { services?: Record<string, { image: string; options?: string }>; steps: Step[]; env?: Record<string, string> }
  const workflow = parseYaml(readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8')) as { jobs: Record<string, Job> };
  const test = workflow.jobs['test'];

  it('runs .ci/run on Node 20 after npm ci, with MySQL 8 and Redis 7 as healthy services', () => {
    expect(test?.services?.['mysql']?.image).toMatch(/^mysql:8(\.|$)/);
    expect(test?.services?.['mysql']?.options).toContain('--health-cmd');
    expect(test?.services?.['redis']?.image).toMatch(/^redis:7(\.|-|$)/);
    expect(test?.services?.['redis']?.options).toContain('--health-cmd');
    const steps = test?.steps ?? [];
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(String(node?.with?.['node-version'])).toBe('20');
    const runs = steps.map((s) => s.run ?? '');
    const ci = runs.findIndex((r) => r.startsWith('npm ci'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(runs.findIndex((r) => r === 'bash .ci/run')).toBeGreaterThan(ci);
  });

  it('audits the dependencies with npm audit', () => {
    const runs = (workflow.jobs['audit']?.steps ?? []).map((s) => s.run ?? '');
    expect(runs).toContain('npm audit --omit=dev --audit-level=high');
    expect(runs.some((r) => r.startsWith('npm audit '))).toBe(true);
  });

  it('builds the image, runs the compose stack, smoke-tests it and checks the monitoring and the Kubernetes manifests', () => {
    const job = workflow.jobs['docker']!;
    expect(job.env?.['COMPOSE_FILE']).toBe('docker/compose.yml');
    const steps = job.steps;
    const runs = steps.map((s) => s.run ?? '');
    const at = (pattern: RegExp) => runs.findIndex((r) => pattern.test(r));
    // In this order: build, up (waiting for the gateway's /readyz), smoke test.
    expect(at(/^docker compose build$/m)).toBeGreaterThan(-1);
    expect(at(/^\s*docker compose up -d$/m)).toBeGreaterThan(at(/^docker compose build$/m));
    expect(runs[at(/docker compose up -d/)]).toContain('http://localhost:4000/readyz');
    const smoke = at(/^node docker\/smoke\.mjs /);
    expect(smoke).toBeGreaterThan(at(/docker compose up -d/));
    expect(existsSync(join(root, 'docker/smoke.mjs'))).toBe(true);
    // Monitoring: the rule names and dashboard count it waits for are the repository's.
    const monitoring = runs[at(/api\/v1\/rules/)]!;
    const rules = readFileSync(join(root, 'deploy/monitoring/prometheus/firefly-alerts.yml'), 'utf8');
    expect(rules).toContain(`alert: ${/grep -q (Firefly\w+)/.exec(monitoring)![1]}`);
    expect(monitoring).toContain(`'"${scrapeTargets().length}"'`); // every process Prometheus scrapes is up
    // Kustomize builds of folders that exist.
    for (const [, dir] of runs.join('\n').matchAll(/kubectl kustomize (\S+)/g)) expect(existsSync(join(root, dir!, 'kustomization.yaml')), dir).toBe(true);
    // Logs on failure, and the stack always removed.
    expect(steps.find((s) => s.run === 'docker compose logs --no-color --tail 200')?.if).toBe('failure()');
    expect(steps.find((s) => s.run === 'docker compose down -v')?.if).toBe('always()');
  });
});

describe('.github/dependabot.yml', () => {
  const config = parseYaml(readFileSync(join(root, '.github/dependabot.yml'), 'utf8')) as {
    version: number;
    updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[];
  };

  it('updates npm, GitHub Actions, the Dockerfile and the compose images, in folders that hold them', () => {
    expect(config.version).toBe(2);
    const manifests: Record<string, string[]> = {
      npm: ['package.json', 'package-lock.json'],
      'github-actions': ['.github/workflows/ci.yml'],
      docker: ['Dockerfile'],
      'docker-compose': ['compose.yml'],
    };
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(Object.keys(manifests).sort());
    for (const update of config.updates) {
      expect(['daily', 'weekly', 'monthly']).toContain(update.schedule.interval);
      for (const file of manifests[update['package-ecosystem']]!) expect(existsSync(join(root, update.directory, file)), `${update['package-ecosystem']}: ${file}`).toBe(true);
    }
  });
});
