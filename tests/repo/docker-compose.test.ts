// Validates docker/compose.yml (and what it points at) without a Docker daemon:
// 1. against the Compose Specification JSON schema, vendored in docker/compose-spec.schema.json — always runs;
// 2. with `docker compose config` / `docker-compose config` when such a binary is installed — skipped otherwise;
// 3. against this repository: every app built from docker/Dockerfile, ports from docs/architecture.md, entries in real
//    workspaces, healthchecks, Prometheus targets, mounted files present.
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

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

  const APPS: Record<string, { entry: string; port?: number }> = {
    gateway: { entry: 'gateway/dist/main.js', port: 4000 },
    user: { entry: 'subgraphs/user/dist/main.js', port: 4001 },
    conversation: { entry: 'subgraphs/conversation/dist/main.js', port: 4002 },
    image: { entry: 'subgraphs/image/dist/main.js', port: 4003 },
    billing: { entry: 'subgraphs/billing/dist/main.js', port: 4004 },
    'dashscope-simulator': { entry: 'simulators/dashscope/dist/main.js', port: 4010 },
  };

  it('has MySQL 8 and Redis 7 with healthchecks, Prometheus and Grafana', () => {
    expect(services['mysql']?.image).toBe('mysql:8.4');
    expect(services['mysql']?.healthcheck?.test.join(' ')).toMatch(/mysqladmin ping/);
    expect(services['redis']?.image).toBe('redis:7-alpine');
    expect(services['redis']?.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
    expect(services['prometheus']?.image).toMatch(/^prom\/prometheus:v\d/);
    expect(services['grafana']?.image).toMatch(/^grafana\/grafana:\d/);
  });

  it('builds every app from docker/Dockerfile and runs its bundle from a real workspace', () => {
    const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const [name, { entry, port }] of Object.entries(APPS)) {
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
      if (port === undefined) continue;
      expect(service?.ports?.at(0)?.endsWith(`:${port}:${port}`) || service?.ports?.at(0) === `${port}:${port}`, `${name} port`).toBe(true);
      expect(service?.healthcheck?.test.join(' '), `${name} healthcheck`).toContain(`http://127.0.0.1:${port}/healthz`);
    }
    // Only the gateway faces clients; subgraph ports are bound to loopback (docs/architecture.md, "Trust").
    for (const name of ['user', 'conversation', 'image', 'billing']) expect(services[name]?.ports?.[0]).toMatch(/^127\.0\.0\.1:/);
    expect(services['gateway']?.ports).toEqual(['4000:4000']);
  });

  it('points services at each other by their compose names', () => {
    const env = services['gateway']?.environment ?? {};
    expect(env['USER_SUBGRAPH_URL']).toBe('http://user:4001/graphql');
    expect(env['CONVERSATION_SUBGRAPH_URL']).toBe('http://conversation:4002/graphql');
    expect(env['IMAGE_SUBGRAPH_URL']).toBe('http://image:4003/graphql');
    expect(env['BILLING_SUBGRAPH_URL']).toBe('http://billing:4004/graphql');
    expect(new URL(env['DATABASE_URL']!).hostname).toBe('mysql');
    expect(new URL(env['REDIS_URL']!).hostname).toBe('redis');
    expect(env['HOST']).toBe('0.0.0.0');
  });

  it('only depends on services that exist, waiting for health where there is a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on.map((d) => [d, undefined] as const) : Object.entries(service.depends_on ?? {}).map(([d, v]) => [d, v.condition] as const);
      for (const [dep, condition] of deps) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]?.healthcheck, `${dep} has a healthcheck`).toBeDefined();
      }
    }
    expect(services['gateway']?.depends_on).toMatchObject({ user: { condition: 'service_healthy' }, billing: { condition: 'service_healthy' } });
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

  it('has Prometheus scrape every app that serves HTTP', () => {
    const prometheus = parseYaml(readFileSync(join(dockerDir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const [name, { port }] of Object.entries(APPS)) if (port !== undefined) expect(targets).toContain(`${name}:${port}`);
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

describe('.github/workflows/ci.yml', () => {
  interface Step { uses?: string; run?: string; with?: Record<string, unknown> }
  interface Job { services?: Record<string, { image: string; options?: string }>; steps: Step[] }
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
});
