// Checks deploy/kubernetes without a cluster: every manifest against the Kubernetes API schemas (kubernetes-models,
// generated from Kubernetes' OpenAPI), the kustomizations built with `kubectl kustomize` when kubectl is installed
// (skipped otherwise; the raw manifests are still checked), and what the manifests mean for this platform — each
// Deployment runs a real entry with /healthz liveness and /readyz readiness, has a Service, a PodDisruptionBudget and
// resources; secrets are referenced, never written; every variable is one the process reads, and with the
// ConfigMap plus the referenced secret keys every process passes its production configuration checks.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { knownVariables } from '@firefly/config';
import { loadGatewayConfig } from '@firefly/gateway';
import { loadBillingConfig } from '@firefly/subgraph-billing';
import { loadConversationConfig } from '@firefly/subgraph-conversation';
import { loadImageConfig } from '@firefly/subgraph-image';
import { loadUserConfig } from '@firefly/subgraph-user';
import { loadImageWorkerConfig } from '@firefly/image-worker';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = join(root, 'deploy/kubernetes');
const base = join(k8s, 'base');
const overlay = join(k8s, 'overlays/example');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: any };

/** The model (and schema) of every kind the manifests use. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
};

function schemaErrors(manifest: Manifest): string | undefined {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) return `${manifest.kind} ${manifest.metadata?.name}: no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return undefined;
  } catch (error) {
    return `${manifest.kind} ${manifest.metadata?.name}: ${(error as Error).message}`;
  }
}

const loadDocs = (text: string): Manifest[] => parseAllDocuments(text).map((d) => d.toJSON() as Manifest).filter(Boolean);
const kustomization = (dir: string) =>
  parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
    resources?: string[];
    patches?: { path: string }[];
    configMapGenerator?: { name: string; envs?: string[] }[];
  };
/** KEY=value lines of a kustomize env file. */
const envFile = (path: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

/** The base's own manifests, as written. */
const baseManifests = (): Manifest[] =>
  (kustomization(base).resources ?? []).flatMap((file) => loadDocs(readFileSync(join(base, file), 'utf8')));
/** The example overlay's settings over the base's (what configMapGenerator's merge produces). */
const mergedConfig = (): Record<string, string> => ({ ...envFile(join(base, 'config.env')), ...envFile(join(overlay, 'config.env')) });

/** The process each Deployment runs, and what its configuration reads. */
const APPS: Record<string, { entry: string; port: number; load: (env: Record<string, string>) => unknown }> = {
  gateway: { entry: 'gateway/dist/main.js', port: 4000, load: loadGatewayConfig },
  user: { entry: 'subgraphs/user/dist/main.js', port: 4001, load: loadUserConfig },
  conversation: { entry: 'subgraphs/conversation/dist/main.js', port: 4002, load: loadConversationConfig },
  image: { entry: 'subgraphs/image/dist/main.js', port: 4003, load: loadImageConfig },
  billing: { entry: 'subgraphs/billing/dist/main.js', port: 4004, load: loadBillingConfig },
  'image-worker': { entry: 'apps/image-worker/dist/main.js', port: 4005, load: loadImageWorkerConfig },
};
function variablesOf(load: (env: Record<string, string>) => unknown): Set<string> {
  knownVariables.clear();
  try {
    load({});
  } catch {
    // The variables were recorded before any refusal.
  }
  return new Set(knownVariables);
}

/** Stand-ins for the Secret's values, well-formed so the configuration checks judge presence, not format. */
const SECRET_VALUES: Record<string, string> = {
  INTERNAL_TOKEN_SECRET: 'k'.repeat(64),
  ACCESS_TOKEN_KEYS: '[{"kty":"OKP","crv":"Ed25519","x":"x","d":"d","kid":"k"}]',
  PII_KEYS: `k1:${'A'.repeat(43)}=`,
  PII_INDEX_KEY: `${'B'.repeat(43)}=`,
  ACCESS_TOKEN_PUBLIC_KEYS: '[{"kty":"OKP","crv":"Ed25519","x":"x","kid":"k"}]',
  DATABASE_URL: 'mysql://firefly:secret@mysql.example:3306/firefly',
  REDIS_URL: 'rediss://:secret@redis.example:6380',
  DASHSCOPE_API_KEY: 'sk-0123456789',
  ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI0123',
  ALIYUN_SMS_ACCESS_KEY_SECRET: 'secret',
  OSS_ACCESS_KEY_ID: 'LTAI0123',
  OSS_ACCESS_KEY_SECRET: 'secret',
  OSS_STS_TOKEN: '',
  ALIPAY_APP_ID: '2021000000000000',
  ALIPAY_PRIVATE_KEY: 'app private key',
  ALIPAY_PUBLIC_KEY: 'alipay public key',
  WECHATPAY_MCHID: '1900000000',
  WECHATPAY_APPID: 'wx0000000000000000',
  WECHATPAY_MERCHANT_SERIAL: '0123456789ABCDEF',
  WECHATPAY_PRIVATE_KEY: 'merchant private key',
  WECHATPAY_PLATFORM_PUBLIC_KEY: 'platform public key',
  WECHATPAY_PLATFORM_PUBLIC_KEY_ID: 'PUB_KEY_ID_0000',
  WECHATPAY_APIV3_KEY: 'a'.repeat(32),
};

const container = (d: Manifest) => d['spec'].template.spec.containers[0];
const secretKeys = (d: Manifest): { name: string; optional: boolean }[] =>
  (container(d).env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => ({ name: e.name as string, optional: e.valueFrom.secretKeyRef.optional === true }));

describe('deploy/kubernetes manifests against the Kubernetes schemas', () => {
  it('reference only files that exist', () => {
    for (const dir of [base, overlay]) {
      const k = kustomization(dir);
      const files = [
        ...(k.resources ?? []).filter((r) => !r.startsWith('..')),
        ...(k.patches ?? []).map((p) => p.path),
        ...(k.configMapGenerator ?? []).flatMap((g) => g.envs ?? []),
      ];
      for (const file of files) expect(existsSync(join(dir, file)), `${dir}: ${file}`).toBe(true);
      // …and every manifest in the folder is used.
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) expect(files, `${dir}: ${file} is listed`).toContain(file);
    }
  });

  it('are valid objects of their kind, and the check catches a broken one', () => {
    const manifests = [...baseManifests(), ...['namespace.yaml', 'ingress.yaml'].flatMap((f) => loadDocs(readFileSync(join(overlay, f), 'utf8')))];
    expect(manifests.map(schemaErrors).filter(Boolean)).toEqual([]);
    const deployment = structuredClone(baseManifests().find((m) => m.kind === 'Deployment')!);
    deployment['spec'].replicas = 'two';
    expect(schemaErrors(deployment)).toMatch(/replicas must be integer/);
    const probe = structuredClone(baseManifests().find((m) => m.kind === 'Deployment')!);
    container(probe).readinessProbe.httpGet.port = { name: 'http' };
    expect(schemaErrors(probe)).toBeDefined();
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!kubectl)(`kubectl kustomize${kubectl ? '' : ' (skipped: kubectl is not installed; the raw manifests above were still checked)'}`, () => {
  const build = (dir: string) => {
    const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return loadDocs(result.stdout);
  };

  it('builds the base and the example overlay into valid objects', () => {
    for (const dir of [base, overlay]) expect(build(dir).map(schemaErrors).filter(Boolean), dir).toEqual([]);
  });

  it('gives the overlay its namespace, images and merged configuration', () => {
    const built = build(overlay);
    expect(built.filter((m) => m.kind !== 'Namespace').every((m) => m.metadata.namespace === 'firefly')).toBe(true);
    for (const d of built.filter((m) => m.kind === 'Deployment')) expect(container(d).image).toBe('registry.example.com/firefly/firefly-ai:1.0.0');
    expect(container(built.find((m) => m.kind === 'Job')!).image).toBe('registry.example.com/firefly/firefly-ai-tools:1.0.0');
    const config = built.find((m) => m.kind === 'ConfigMap')!;
    expect(config['data']).toEqual(mergedConfig());
    // Every workload points at the generated (hashed) ConfigMap name.
    for (const d of built.filter((m) => m.kind === 'Deployment')) expect(container(d).envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
    expect(built.find((m) => m.kind === 'Deployment' && m.metadata.name === 'firefly-conversation')!['spec'].replicas).toBe(3);
    // Every resource carries the platform label, and selectors include it.
    for (const m of built.filter((x) => x.kind !== 'Namespace')) expect(m.metadata.labels?.['app.kubernetes.io/part-of'], `${m.kind} ${m.metadata.name}`).toBe('firefly');
  });
});

describe('deploy/kubernetes against this platform', () => {
  const manifests = baseManifests();
  const deployments = manifests.filter((m) => m.kind === 'Deployment');
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);

  it('runs every app compose runs (but the simulators), from its bundle, on its port', () => {
    expect(deployments.map((d) => d.metadata.labels?.['app.kubernetes.io/name']).sort()).toEqual(Object.keys(APPS).sort());
    for (const d of deployments) {
      const app = APPS[d.metadata.labels!['app.kubernetes.io/name']!]!;
      const c = container(d);
      expect(c.image).toBe('firefly-ai');
      expect(c.command).toEqual(['node', '--enable-source-maps', app.entry]);
      expect(c.ports).toEqual([{ name: 'http', containerPort: app.port }]);
      expect(d['spec'].selector.matchLabels).toEqual({ 'app.kubernetes.io/name': d.metadata.labels!['app.kubernetes.io/name'] });
      expect(d['spec'].template.metadata.labels).toMatchObject(d['spec'].selector.matchLabels);
    }
  });

  it('probes /healthz for liveness and /readyz for readiness, with resources and a graceful stop', () => {
    for (const d of deployments) {
      const c = container(d);
      expect(c.livenessProbe.httpGet, d.metadata.name).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet, d.metadata.name).toEqual({ path: '/readyz', port: 'http' });
      expect(c.resources.requests.cpu, d.metadata.name).toBeDefined();
      expect(c.resources.requests.memory, d.metadata.name).toBeDefined();
      expect(c.resources.limits.memory, d.metadata.name).toBeDefined();
      // Longer than the preStop pause plus SHUTDOWN_GRACE_SECONDS' default drain (10 s).
      expect(d['spec'].template.spec.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(15);
      expect(d['spec'].template.spec.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it('gives every Deployment a Service on its port and a PodDisruptionBudget; the gateway and the image workers an autoscaler', () => {
    for (const d of deployments) {
      const selector = d['spec'].selector.matchLabels;
      const service = byKind('Service').find((s) => JSON.stringify(s['spec'].selector) === JSON.stringify(selector));
      expect(service?.['spec'].ports, d.metadata.name).toEqual([{ name: 'http', port: container(d).ports[0].containerPort, targetPort: 'http' }]);
      const pdb = byKind('PodDisruptionBudget').find((p) => JSON.stringify(p['spec'].selector.matchLabels) === JSON.stringify(selector));
      expect(pdb, `${d.metadata.name} PodDisruptionBudget`).toBeDefined();
      expect(d['spec'].replicas, d.metadata.name).toBeGreaterThanOrEqual(2);
    }
    const hpas = byKind('HorizontalPodAutoscaler');
    expect(hpas.map((h) => h['spec'].scaleTargetRef.name).sort()).toEqual(['firefly-gateway', 'firefly-image-worker']);
    for (const hpa of hpas) {
      const target = deployments.find((d) => d.metadata.name === hpa['spec'].scaleTargetRef.name)!;
      expect(hpa['spec'].scaleTargetRef, hpa.metadata.name).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: target.metadata.name });
      expect(hpa['spec'].minReplicas, hpa.metadata.name).toBeGreaterThanOrEqual(2);
      expect(hpa['spec'].maxReplicas, hpa.metadata.name).toBeGreaterThan(hpa['spec'].minReplicas);
      // The autoscaler starts where the Deployment does, and the CPU target is a share of the requests it sets.
      expect(target['spec'].replicas, hpa.metadata.name).toBe(hpa['spec'].minReplicas);
      expect(container(target).resources.requests.cpu, hpa.metadata.name).toBeDefined();
    }
    // The subgraph URLs of the configuration name these Services and ports.
    const config = mergedConfig();
    for (const name of ['USER', 'CONVERSATION', 'IMAGE', 'BILLING']) {
      const url = new URL(config[`${name}_SUBGRAPH_URL`]!);
      const service = byKind('Service').find((s) => s.metadata.name === url.hostname);
      expect(service?.['spec'].ports[0].port, url.href).toBe(Number(url.port));
    }
  });

  it("lets only Firefly's own pods (and the metrics scraper) reach every process but the gateway", () => {
    const [policy, ...more] = byKind('NetworkPolicy');
    expect(more).toEqual([]);
    const names = policy!['spec'].podSelector.matchExpressions[0].values as string[];
    const internal = deployments.map((d) => d.metadata.labels!['app.kubernetes.io/name']!).filter((n) => n !== 'gateway');
    expect([...names].sort()).toEqual(internal.sort());
  });

  it('migrates and seeds in a Job, from the tools image', () => {
    const [job, ...more] = byKind('Job');
    expect(more).toEqual([]);
    const c = job!['spec'].template.spec.containers[0];
    expect(c.image).toBe('firefly-ai-tools');
    expect(c.command).toEqual(['sh', '-c', 'npm run --silent db:migrate && npm run --silent db:seed']);
    expect(c.env.map((e: any) => e.name)).toEqual(['DATABASE_URL']);
    // The Dockerfile's build stage is what has the tools (tsx) these scripts need.
    expect(readFileSync(join(root, 'docker/Dockerfile'), 'utf8')).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
  });

  it('references secrets and never writes them', () => {
    expect(byKind('Secret')).toEqual([]);
    const config = mergedConfig();
    for (const key of Object.keys(config)) expect(key, 'a secret in the ConfigMap').not.toMatch(/SECRET|_KEY(S|_ID)?$|TOKEN|PASSWORD|DATABASE_URL|REDIS_URL/);
    for (const d of [...deployments, ...byKind('Job')]) {
      for (const e of container(d).env ?? []) {
        expect(e.value, `${d.metadata.name}: ${e.name} is written inline`).toBeUndefined();
        expect(e.valueFrom.secretKeyRef.name).toBe('firefly-secrets');
      }
    }
  });

  it('sets only variables the processes read', () => {
    const all = new Set(Object.values(APPS).flatMap((a) => [...variablesOf(a.load)]));
    expect(Object.keys(mergedConfig()).filter((k) => !all.has(k))).toEqual([]);
    for (const d of deployments) {
      const reads = variablesOf(APPS[d.metadata.labels!['app.kubernetes.io/name']!]!.load);
      expect(secretKeys(d).map((k) => k.name).filter((k) => !reads.has(k)), d.metadata.name).toEqual([]);
    }
  });

  it('gives each process everything its production configuration requires (and it refuses without a secret)', () => {
    const config = mergedConfig();
    expect(config['NODE_ENV']).toBe('production');
    for (const d of deployments) {
      const app = APPS[d.metadata.labels!['app.kubernetes.io/name']!]!;
      const secrets = Object.fromEntries(secretKeys(d).map(({ name }) => [name, SECRET_VALUES[name]!]));
      expect(() => app.load({ ...config, ...secrets }), d.metadata.name).not.toThrow();
      for (const { name, optional } of secretKeys(d)) {
        if (optional) continue;
        const without = { ...config, ...secrets };
        delete without[name];
        // A required key: without it the process either refuses to start or (a URL) falls back to a local default.
        const refused = (() => {
          try {
            app.load(without);
            return false;
          } catch {
            return true;
          }
        })();
        expect(refused || /_URL$/.test(name), `${d.metadata.name} without ${name}`).toBe(true);
      }
    }
  });
});
