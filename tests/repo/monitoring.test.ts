// Checks deploy/monitoring — the Prometheus alert rules and the Grafana dashboards — without Prometheus or Grafana:
// with promtool (Debian's `prometheus` package, which .ci/run installs) the rule files, the rules' unit tests
// (deploy/monitoring/prometheus/tests: when each alert fires and when it must not) and docker/prometheus.yml; always,
// the rule files' structure as Prometheus reads it, every PromQL expression
// parsed by Prometheus's own grammar (@prometheus-io/lezer-promql), every metric they name exported by a running
// Firefly process, every label value they match on one the code produces, every alert explained in the runbook,
// and the provisioning that loads both in docker/compose.yml. The processes are scraped after real traffic (a chat
// answer, an image job, an order paid, a forged notification), so the business metrics are checked by value too.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PRODUCT_IDS } from '@firefly/db/seed';
import { startSupergraph, type Supergraph } from '../src/harness.ts';
import { CONVERSATION, CREATE_CONVERSATION, createChatUser, expectData, SEND_MESSAGE, waitFor } from '../src/chat-helpers.ts';
import { CREATE_IMAGE_JOB, startImageWorker, waitForFinishedJob, type TestImageWorker } from '../src/image-helpers.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const monitoring = join(root, 'deploy/monitoring');
const rulesDir = join(monitoring, 'prometheus');
const dashboardsDir = join(monitoring, 'grafana/dashboards');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[]; [key: string]: unknown }[];
  [key: string]: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: { query: string } | string }[] };
}

const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.yml'));
const rules = (): { file: string; rule: Rule }[] =>
  ruleFiles.flatMap((file) => (parseYaml(readFileSync(join(rulesDir, file), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((rule) => ({ file, rule }))));
const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard }));
const panelsOf = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
const dashboardExprs = (): { where: string; expr: string }[] =>
  dashboards.flatMap(({ file, dashboard }) =>
    panelsOf(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr }))),
  );

/** Grafana's variables replaced by what Prometheus would receive, so the expression parses as PromQL. */
const asPromQL = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replace(/\$(\w+)/g, '.*');

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/** Parses with Prometheus's grammar: the syntax errors, and every vector selector's metric and label matchers. */
function analyse(expr: string): { errors: string[]; selectors: Selector[] } {
  const text = asPromQL(expr);
  const tree = parser.parse(text);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) errors.push(`syntax error at ${cursor.from}: …${text.slice(Math.max(0, cursor.from - 20), cursor.from + 20)}…`);
    if (cursor.name === 'VectorSelector') {
      const node = cursor.node;
      const metric = node.getChild('Identifier');
      const matchers = node
        .getChild('LabelMatchers')
        ?.getChildren('UnquotedLabelMatcher')
        .map((m) => {
          const label = m.getChild('LabelName');
          const op = m.getChild('MatchOp');
          const value = m.getChild('StringLiteral');
          return {
            label: label ? text.slice(label.from, label.to) : '',
            op: op ? text.slice(op.from, op.to) : '',
            value: value ? JSON.parse(text.slice(value.from, value.to).replace(/^'|'$/g, '"')) : '',
          };
        });
      selectors.push({ metric: metric ? text.slice(metric.from, metric.to) : '', matchers: matchers ?? [] });
    }
  } while (cursor.next());
  return { errors, selectors };
}

/** GitHub's anchor for a Markdown heading. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

describe('deploy/monitoring/prometheus alert rules', () => {
  it('are rule groups as Prometheus reads them, each alert named, severe, explained and timed', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    const groupNames = new Set<string>();
    const alertNames = new Set<string>();
    for (const file of ruleFiles) {
      const parsed = parseYaml(readFileSync(join(rulesDir, file), 'utf8')) as RuleFile;
      expect(Object.keys(parsed), file).toEqual(['groups']);
      for (const group of parsed.groups) {
        expect(Object.keys(group).every((k) => ['name', 'interval', 'limit', 'rules'].includes(k)), `${file}: ${group.name} keys`).toBe(true);
        expect(groupNames.has(group.name), `group ${group.name} is unique`).toBe(false);
        groupNames.add(group.name);
        expect(group.rules.length, group.name).toBeGreaterThan(0);
        for (const rule of group.rules) {
          const name = rule.alert ?? rule.record ?? '(unnamed)';
          expect(Object.keys(rule).every((k) => ['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k)), `${name} keys`).toBe(true);
          expect(typeof rule.expr, name).toBe('string');
          if (rule.record !== undefined) continue;
          expect(rule.alert, name).toMatch(/^Firefly[A-Z][A-Za-z0-9]+$/);
          expect(alertNames.has(name), `alert ${name} is unique`).toBe(false);
          alertNames.add(name);
          expect(rule.for, name).toMatch(/^\d+[smh]$/);
          expect(['critical', 'warning'], name).toContain(rule.labels?.['severity']);
          expect(rule.annotations?.['summary'], name).toBeTruthy();
          expect(rule.annotations?.['description'], name).toBeTruthy();
          // Templates reference only labels or the value.
          for (const text of Object.values(rule.annotations ?? {})) {
            for (const [, ref] of text.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)) expect(ref, `${name}: {{ ${ref} }}`).toMatch(/^\$(labels\.\w+|value)( \| \w+)?$/);
          }
        }
      }
    }
    expect(alertNames.size).toBeGreaterThanOrEqual(5);
  });

  it('have every alert explained in the runbook (docs/operations.md, "Alerts")', () => {
    const runbook = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
    for (const { rule } of rules()) {
      if (!rule.alert) continue;
      expect(rule.annotations?.['runbook'], rule.alert).toBe(`docs/operations.md#${rule.alert.toLowerCase()}`);
      expect(anchors.has(rule.alert.toLowerCase()), `runbook section for ${rule.alert}`).toBe(true);
    }
  });
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!promtool)(`promtool${promtool ? '' : ' (skipped: promtool is not installed — apt-get install prometheus; the rules are still parsed below)'}`, () => {
  const run = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8', cwd: root });
  const unitTests = readdirSync(join(rulesDir, 'tests')).filter((f) => f.endsWith('.test.yml'));

  it('accepts the rule files and docker/prometheus.yml', () => {
    const rulesCheck = run('check', 'rules', ...ruleFiles.map((f) => join(rulesDir, f)));
    expect(rulesCheck.stdout + rulesCheck.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(rulesCheck.status).toBe(0);
    const config = run('check', 'config', '--syntax-only', 'docker/prometheus.yml');
    expect(config.status, config.stdout + config.stderr).toBe(0);
  });

  it("passes the rules' unit tests: each alert fires on the series that should fire it, and not on the others", () => {
    expect(unitTests.length).toBeGreaterThan(0);
    const tested = new Set(unitTests.flatMap((f) => [...readFileSync(join(rulesDir, 'tests', f), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!)));
    // The alerts this repository added for the list are covered (5xx, breaker, DashScope, queue, payments).
    for (const alert of ['FireflyGateway5xxRate', 'FireflySubgraphCircuitOpen', 'FireflyDashScopeErrorRate', 'FireflyImageQueueBacklog', 'FireflyImageWorkersDown', 'FireflyPaymentNotificationsRefused', 'FireflyRefundsFailing']) {
      expect(tested, alert).toContain(alert);
    }
    const result = run('test', 'rules', ...unitTests.map((f) => join(rulesDir, 'tests', f)));
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('fails a broken rule and a unit test whose alert would not fire (the checks are not vacuous)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promtool-'));
    try {
      const rules = readFileSync(join(rulesDir, ruleFiles[0]!), 'utf8');
      writeFileSync(join(dir, 'broken.yml'), rules.replace('expr: max(image_queue_jobs{state="waiting"}) > 50', 'expr: max(image_queue_jobs{state="waiting"} > 50'));
      expect(run('check', 'rules', join(dir, 'broken.yml')).status).not.toBe(0);
      // The backlog alert asked for before its 15 minutes have passed.
      writeFileSync(join(dir, ruleFiles[0]!), rules);
      mkdirSync(join(dir, 'tests'));
      const test = readFileSync(join(rulesDir, 'tests', unitTests[0]!), 'utf8').replace('      - eval_time: 10m\n        alertname: FireflyImageQueueBacklog\n        exp_alerts: []', '      - eval_time: 10m\n        alertname: FireflyImageQueueBacklog\n        exp_alerts:\n          - exp_labels:\n              severity: warning');
      writeFileSync(join(dir, 'tests', 'early.test.yml'), test);
      const result = run('test', 'rules', join(dir, 'tests', 'early.test.yml'));
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/FireflyImageQueueBacklog, time: 10m/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/monitoring/grafana dashboards', () => {
  const datasource = (
    parseYaml(readFileSync(join(root, 'docker/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string }[] }
  ).datasources[0]!;

  it('are Grafana dashboards with unique uids and titles, panels on the 24-column grid, on the provisioned data source', () => {
    expect(dashboards.length).toBeGreaterThanOrEqual(3);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    expect(new Set(dashboards.map((d) => d.dashboard.title)).size).toBe(dashboards.length);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.uid, file).toBe(basename(file, '.json'));
      expect(dashboard.uid.length, file).toBeLessThanOrEqual(40);
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(36);
      const panels = panelsOf(dashboard.panels);
      expect(new Set(panels.map((p) => p.id)).size, `${file}: panel ids`).toBe(panels.length);
      for (const panel of panels) {
        const { x, w, h } = panel.gridPos;
        expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${file}: ${panel.title} gridPos`).toBe(true);
        if (panel.type === 'row') continue;
        expect(panel.datasource, `${file}: ${panel.title}`).toEqual({ type: datasource.type, uid: datasource.uid });
        expect(panel.targets?.length, `${file}: ${panel.title} queries`).toBeGreaterThan(0);
        expect(new Set(panel.targets!.map((t) => t.refId)).size, `${file}: ${panel.title} refIds`).toBe(panel.targets!.length);
      }
    }
  });

  it('are provisioned in docker/compose.yml from this folder', () => {
    const provider = (
      parseYaml(readFileSync(join(root, 'docker/grafana/provisioning/dashboards/firefly.yml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] }
    ).providers[0]!;
    const compose = parseYaml(readFileSync(join(root, 'docker/compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { volumes?: string[] }> };
    expect(compose.services['grafana']?.volumes).toContain(`../deploy/monitoring/grafana/dashboards:${provider.options.path}:ro`);
    const prometheusConfig = parseYaml(readFileSync(join(root, 'docker/prometheus.yml'), 'utf8')) as { rule_files: string[] };
    const mount = compose.services['prometheus']?.volumes?.find((v) => v.startsWith('../deploy/monitoring/prometheus:'));
    expect(mount).toBeDefined();
    const [, target] = mount!.split(':');
    expect(prometheusConfig.rule_files).toEqual([`${target}/*.yml`]);
    expect(existsSync(join(root, 'docker', mount!.split(':')[0]!))).toBe(true);
  });
});

describe('every expression of the rules and dashboards', () => {
  const all = () => [...rules().map(({ file, rule }) => ({ where: `${file}: ${rule.alert ?? rule.record}`, expr: rule.expr })), ...dashboardExprs()];

  it('parses as PromQL (and the parser does catch a broken one)', () => {
    for (const { where, expr } of all()) expect(analyse(expr).errors, `${where}: ${expr}`).toEqual([]);
    expect(analyse('sum(rate(http_request_duration_seconds_count[5m])').errors.length).toBeGreaterThan(0);
    expect(analyse('rate(up[5m]) >').errors.length).toBeGreaterThan(0);
  });

  describe('against the metrics the running processes export, after real traffic', () => {
    let supergraph: Supergraph;
    let worker: TestImageWorker;
    let runPrefix: string | undefined;
    /** Metric names (histograms and summaries with their series suffixes) and `service` values seen in /metrics. */
    const exported = new Set<string>(['up']);
    const services = new Set<string>();
    /** Every sample line of every process, for the business metrics' values. */
    let samples = '';
    beforeAll(async () => {
      // The business metrics are counted exactly, so this stack gets a Redis prefix of its own within the run's: the
      // image queue is otherwise shared by every file of the run, and another file's job (operators/catalog leaves
      // QUEUED jobs with no worker of its own) was taken by this worker and settled through this billing (3 settled
      // for 2 held, in a full run). With its own prefix, its sweepers would take other files' rows in the shared
      // database for lost (no record or queue entry under this prefix): they are set not to run while it lives.
      runPrefix = process.env.REDIS_KEY_PREFIX;
      process.env.REDIS_KEY_PREFIX = `${runPrefix ?? ''}monitoring:`;
      supergraph = await startSupergraph({
        env: { GENERATION_LEASE_SECONDS: '3600', GENERATION_SWEEP_INTERVAL_SECONDS: '3600', IMAGE_JOB_SWEEP_INTERVAL_SECONDS: '3600' },
      });
      worker = await startImageWorker(supergraph);
      const origins = [new URL(supergraph.gatewayUrl).origin, ...Object.values(supergraph.subgraphUrls).map((u) => new URL(u).origin), new URL(worker.url).origin];
      await traffic(supergraph);
      for (const origin of origins) {
        const text = await (await fetch(`${origin}/metrics`)).text();
        samples += text;
        for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
          exported.add(name!);
          if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
          if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(`${name}${suffix}`);
        }
        for (const [, service] of text.matchAll(/service="([^"]+)"/g)) services.add(service!);
      }
      // Starting the platform on a loaded machine (several suites at once) can take longer than the default hook timeout.
    }, 180_000);
    afterAll(async () => {
      await worker?.stop();
      await supergraph?.stop();
      if (runPrefix === undefined) delete process.env.REDIS_KEY_PREFIX;
      else process.env.REDIS_KEY_PREFIX = runPrefix;
    });

    /** The sum of a metric's samples whose labels include all of `labels`. */
    const total = (name: string, labels: Record<string, string> = {}) =>
      [...samples.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))]
        .filter(([, set]) => Object.entries(labels).every(([k, v]) => (set ?? '').split(',').includes(`${k}="${v}"`)))
        .reduce((sum, [, , value]) => sum + Number(value), 0);

    it('exports the business metrics the traffic moved: DashScope, credits, orders and payments, the image queue', () => {
      // One chat answer on qwen-turbo through the DashScope simulator: one ok call, its first token, its tokens.
      expect(total('dashscope_chat_requests_total', { model: 'qwen-turbo', outcome: 'ok' })).toBe(1);
      expect(total('dashscope_chat_first_token_seconds_count', { model: 'qwen-turbo' })).toBe(1);
      expect(total('dashscope_tokens_total', { model: 'qwen-turbo', type: 'input' })).toBeGreaterThan(0);
      expect(total('dashscope_tokens_total', { model: 'qwen-turbo', type: 'output' })).toBeGreaterThan(0);
      // Its hold and the image job's: reserved, then settled (what they cost) and the rest released.
      expect(total('billing_reservations_total', { event: 'held' })).toBe(2);
      expect(total('billing_reservations_total', { event: 'settled' })).toBe(2);
      expect(total('billing_credits_total', { flow: 'settled' })).toBeGreaterThanOrEqual(4);
      expect(total('billing_credits_total', { flow: 'reserved' })).toBe(total('billing_credits_total', { flow: 'settled' }) + total('billing_credits_total', { flow: 'released' }));
      // One Alipay order paid through the cashier, and one forged notification refused.
      expect(total('billing_orders_created_total', { channel: 'ALIPAY' })).toBe(1);
      expect(total('billing_orders_paid_total', { channel: 'ALIPAY' })).toBe(1);
      expect(total('billing_payment_notifications_total', { channel: 'ALIPAY', outcome: 'credited' })).toBe(1);
      expect(total('billing_payment_notifications_total', { channel: 'ALIPAY', outcome: 'refused' })).toBe(1);
      expect(total('billing_orders', { status: 'PAID' })).toBeGreaterThanOrEqual(1);
      // The gateway by operation and client: the named operations the traffic sent, an unnamed one, and an error.
      expect(total('gateway_operation_duration_seconds_count', { operation: 'Catalog', type: 'query', client: 'firefly-web', outcome: 'ok' })).toBe(1);
      expect(total('gateway_operation_duration_seconds_count', { operation: 'Send', type: 'mutation', client: 'unknown', outcome: 'ok' })).toBe(1);
      expect(total('gateway_operation_duration_seconds_count', { operation: 'anonymous', type: 'query' })).toBeGreaterThanOrEqual(1);
      expect(total('gateway_operation_duration_seconds_count', { operation: 'Broken', client: 'firefly-web', outcome: 'error' })).toBe(1);
      expect(total('gateway_operation_errors_total', { operation: 'Broken', client: 'firefly-web' })).toBe(1);
      // One image job: finished by the worker, the queue drained.
      expect(total('image_jobs_finished_total', { status: 'SUCCEEDED' })).toBe(1);
      expect(samples).toMatch(/^image_queue_jobs\{state="waiting",service="image-worker"\} 0$/m);
    });

    it('names only metrics some process exports', () => {
      const missing = all().flatMap(({ where, expr }) =>
        analyse(expr)
          .selectors.map((s) => s.metric)
          .filter((m) => !exported.has(m))
          .map((m) => `${where}: ${m}`),
      );
      expect(missing).toEqual([]);
      // The check can fail: a metric nobody exports.
      expect(exported.has('gateway_requests_total')).toBe(false);
      expect(exported.has('conversation_generations_total')).toBe(true);
      expect(exported.has('http_request_duration_seconds_bucket')).toBe(true);
    });

    it('matches only label values the processes and the code produce', () => {
      const jobs = (parseYaml(readFileSync(join(root, 'docker/prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((c) => c.job_name);
      const source = sourceText();
      for (const { where, expr } of all()) {
        for (const { metric, matchers } of analyse(expr).selectors) {
          for (const { label, op, value } of matchers) {
            if (op !== '=') continue;
            if (label === 'service') expect(services, `${where}: ${metric}{service="${value}"}`).toContain(value);
            else if (label === 'job') expect(jobs, `${where}: job="${value}"`).toContain(value);
            else expect(source.includes(`'${value}'`), `${where}: ${metric}{${label}="${value}"} — no such value in the code`).toBe(true);
          }
        }
      }
      expect(services).toContain('gateway');
      expect(services).toContain('subgraph-conversation');
      expect(services).toContain('image-worker');
    });
  });
});

/**
 * What makes every business metric move, through the gateway as clients do it: a chat answer, an image job, an
 * Alipay order paid at the simulator's cashier, and a forged payment notification.
 */
async function traffic(sg: Supergraph): Promise<void> {
  await sg.request('{ chatModels { id } products { id } }');
  await sg.request('query Catalog { products { id } }', { headers: { 'apollographql-client-name': 'firefly-web' } });
  await sg.request('query Broken { order(id: "nope") { id } }', { headers: { 'apollographql-client-name': 'firefly-web' } });
  const user = await createChatUser(sg, 1_000);
  const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
  const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content: 'Say something short.' } })).sendMessage;
  await waitFor(
    async () => {
      const messages = expectData(await user.call(CONVERSATION, { id: conversationId })).conversation.messages.edges as { node: { id: string; status: string; creditsCharged: number | null } }[];
      const answer = messages.find((e) => e.node.id === sent.assistantMessage.id)?.node;
      return answer?.status === 'COMPLETED' && answer.creditsCharged !== null;
    },
    20_000,
    'the chat answer to complete and be charged',
  );

  const job = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'monitoring lighthouse', model: 'wanx2.1-t2i-turbo', count: 1 } })).createImageJob as { id: string };
  expect((await waitForFinishedJob(user, job.id)).status).toBe('SUCCEEDED');

  const order = expectData(
    await user.call('mutation($p: ID!) { createOrder(productId: $p, channel: ALIPAY) { id payment { payUrl } } }', { p: PRODUCT_IDS.CREDITS_550 }),
  ).createOrder as { id: string; payment: { payUrl: string } };
  const paid = await fetch(order.payment.payUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
  expect(paid.status).toBe(200);
  await waitFor(async () => expectData(await user.call('query($id: ID!) { order(id: $id) { status } }', { id: order.id })).order.status === 'PAID', 15_000, 'the order to be paid');
  const forged = await fetch(`${new URL(sg.gatewayUrl).origin}/payments/alipay/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'out_trade_no=x&trade_status=TRADE_SUCCESS&total_amount=1.00&sign=Zm9v',
  });
  expect(await forged.text()).toBe('fail');
}

/** The TypeScript sources of the apps and packages (where label values are written). */
function sourceText(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === '__tests__' || entry.name === 'generated') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) texts.push(readFileSync(path, 'utf8'));
    }
  };
  for (const top of ['gateway/src', 'subgraphs', 'packages', 'apps/image-worker/src']) walk(join(root, top));
  return texts.join('\n');
}
