/**
 * `npm start`: the whole platform on one machine, for development.
 * Checks MySQL and Redis, generates the Prisma client, builds, migrates and seeds the database, checks the
 * supergraph, then runs every process on its default port with prefixed logs until Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mariadb';
import { Redis } from 'ioredis';
import { generateSigningKey } from '@firefly/auth';
import { loadWebConfig } from '@firefly/web/config';
import { REPO_ROOT } from '@firefly/supergraph';
import { generatePaymentKeySet, merchantEnvOf, type PaymentKeySet } from '@firefly/payments-simulator';

const root = REPO_ROOT;
if (existsSync(join(root, '.env'))) process.loadEnvFile(join(root, '.env'));
const env: Record<string, string | undefined> = { ...process.env };
env.NODE_ENV ??= 'development';
env.DATABASE_URL ??= 'mysql://root@127.0.0.1:3306/firefly';
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
env.LOG_PRETTY ??= 'true';

const COLORS = [36, 35, 33, 32, 34, 96, 95];
const say = (message: string) => console.log(`\x1b[1m[start]\x1b[0m ${message}`);

function fail(message: string): never {
  console.error(`\n\x1b[31m[start] ${message}\x1b[0m\n`);
  process.exit(1);
}

function run(label: string, command: string, args: string[]) {
  say(label);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) fail(`${label} failed (exit ${result.status ?? result.signal})`);
}

const HOW_TO_START = 'Start one with `docker compose -f docker/compose.yml up -d mysql redis` (or your own server) and run `npm start` again.';

async function checkMysql() {
  const url = new URL(env.DATABASE_URL!);
  const where = `${url.hostname}:${url.port || 3306} (DATABASE_URL)`;
  try {
    const connection = await createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      connectTimeout: 3_000,
    });
    await connection.end();
  } catch (error) {
    fail(`MySQL is not reachable at ${where}: ${(error as Error).message}\n  ${HOW_TO_START}`);
  }
}

async function checkRedis() {
  const url = new URL(env.REDIS_URL!);
  const where = `${url.hostname}:${url.port || 6379} (REDIS_URL)`;
  const redis = new Redis(env.REDIS_URL!, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    fail(`Redis is not reachable at ${where}: ${(error as Error).message}\n  ${HOW_TO_START}`);
  } finally {
    redis.disconnect();
  }
}

/** Development secrets, made once and kept in .data/ (gitignored) so restarts keep sessions valid. */
async function ensureDevSecrets() {
  if (env.NODE_ENV === 'production') return;
  const file = join(root, '.data', 'dev-secrets.json');
  let secrets: { INTERNAL_TOKEN_SECRET: string; ACCESS_TOKEN_KEYS: string };
  if (existsSync(file)) {
    secrets = JSON.parse(readFileSync(file, 'utf8'));
  } else {
    mkdirSync(join(root, '.data'), { recursive: true });
    const key = await generateSigningKey(`dev-${new Date().toISOString().slice(0, 10)}`);
    secrets = { INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'), ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]) };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    say('generated development secrets in .data/dev-secrets.json');
  }
  env.INTERNAL_TOKEN_SECRET ??= secrets.INTERNAL_TOKEN_SECRET;
  env.ACCESS_TOKEN_KEYS ??= secrets.ACCESS_TOKEN_KEYS;
}

/**
 * Without Alipay or WeChat Pay credentials, payments run against the local payment simulator: a development key set
 * (both sides' RSA keys and an APIv3 key) is made once into .data/payment-dev-keys.json; the simulator reads its
 * half from the file, billing gets the merchant's half as the usual ALIPAY_* / WECHATPAY_* variables.
 */
function usePaymentSimulator(port: number): boolean {
  if (env.ALIPAY_APP_ID || env.WECHATPAY_MCHID) return false;
  if (env.NODE_ENV === 'production') fail('ALIPAY_* / WECHATPAY_* are not set; production never uses the payment simulator');
  const file = join(root, '.data', 'payment-dev-keys.json');
  let keys: PaymentKeySet;
  if (existsSync(file)) {
    keys = JSON.parse(readFileSync(file, 'utf8')) as PaymentKeySet;
  } else {
    mkdirSync(join(root, '.data'), { recursive: true });
    keys = generatePaymentKeySet();
    writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
    say('generated development payment keys in .data/payment-dev-keys.json');
  }
  env.PAYMENT_SIMULATOR_KEYS_FILE = file;
  env.PAYMENT_SIMULATOR_PORT ??= String(port);
  for (const [name, value] of Object.entries(merchantEnvOf(keys, `http://127.0.0.1:${env.PAYMENT_SIMULATOR_PORT}`))) env[name] ??= value;
  env.PAYMENT_NOTIFY_BASE_URL ??= `http://127.0.0.1:${env.GATEWAY_PORT ?? 4000}`;
  return true;
}

interface ProcessSpec {
  name: string;
  entry: string;
  port: number;
  /** Run the entry from TypeScript source (through tsx) rather than a built bundle. */
  typescript?: boolean;
}

/**
 * Every process listens on its own *_PORT variable (defaults below), and the addresses the processes call each
 * other by follow those ports unless set explicitly — so a second platform can run beside the first on other ports
 * (the web client's npm-start browser test does).
 */
const portOf = (name: string, fallback: number): number => {
  const port = Number(env[name] ?? fallback);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) fail(`${name} must be a TCP port, got ${JSON.stringify(env[name])}`);
  env[name] = String(port);
  return port;
};
const ports = {
  gateway: portOf('GATEWAY_PORT', 4000),
  user: portOf('USER_SUBGRAPH_PORT', 4001),
  conversation: portOf('CONVERSATION_SUBGRAPH_PORT', 4002),
  image: portOf('IMAGE_SUBGRAPH_PORT', 4003),
  billing: portOf('BILLING_SUBGRAPH_PORT', 4004),
  imageWorker: portOf('IMAGE_WORKER_PORT', 4005),
};
env.USER_SUBGRAPH_URL ??= `http://127.0.0.1:${ports.user}/graphql`;
env.CONVERSATION_SUBGRAPH_URL ??= `http://127.0.0.1:${ports.conversation}/graphql`;
env.IMAGE_SUBGRAPH_URL ??= `http://127.0.0.1:${ports.image}/graphql`;
env.BILLING_SUBGRAPH_URL ??= `http://127.0.0.1:${ports.billing}/graphql`;

const processes: ProcessSpec[] = [
  { name: 'user', entry: 'subgraphs/user/dist/main.js', port: ports.user },
  { name: 'conversation', entry: 'subgraphs/conversation/dist/main.js', port: ports.conversation },
  { name: 'image', entry: 'subgraphs/image/dist/main.js', port: ports.image },
  { name: 'billing', entry: 'subgraphs/billing/dist/main.js', port: ports.billing },
  { name: 'image-worker', entry: 'apps/image-worker/dist/main.js', port: ports.imageWorker },
  { name: 'gateway', entry: 'gateway/dist/main.js', port: ports.gateway },
];

// The web app's Vite development server (hot reload), forwarding /graphql to the gateway.
env.WEB_GATEWAY_URL ??= `http://127.0.0.1:${ports.gateway}`;
const webConfig = loadWebConfig(env);
const web: ProcessSpec = { name: 'web', entry: 'apps/web/scripts/dev-server.ts', port: webConfig.WEB_PORT, typescript: true };
processes.push(web);

const simulator: ProcessSpec = { name: 'dashscope-sim', entry: 'simulators/dashscope/dist/main.js', port: Number(env.DASHSCOPE_SIMULATOR_PORT ?? 4010) };
const ossSimulator: ProcessSpec = { name: 'oss-sim', entry: 'simulators/oss/dist/main.js', port: Number(env.OSS_SIMULATOR_PORT ?? 4011) };
const paymentSimulator: ProcessSpec = { name: 'payments-sim', entry: 'simulators/payments/dist/main.js', port: Number(env.PAYMENT_SIMULATOR_PORT ?? 4012) };

const children: ChildProcess[] = [];

function startProcess(spec: ProcessSpec, index: number) {
  const color = COLORS[index % COLORS.length];
  const prefix = `\x1b[${color}m${spec.name.padEnd(12)}|\x1b[0m `;
  const loader = spec.typescript ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, ['--enable-source-maps', ...loader, join(root, spec.entry)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pipe = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
  };
  pipe(child.stdout!, process.stdout);
  pipe(child.stderr!, process.stderr);
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`${prefix}exited (${code ?? signal}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push(child);
}

// Generous: on a loaded machine the subgraphs alone take half a minute to come up, and the gateway composes after them.
async function waitForHealth(spec: ProcessSpec, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${spec.port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The processes already started must not outlive us: stop them all rather than exit past them.
  console.error(`\n\x1b[31m[start] ${spec.name} did not become healthy on port ${spec.port} within ${timeoutMs / 1000}s\x1b[0m\n`);
  await shutdown(1);
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping…');
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

await checkMysql();
await checkRedis();
await ensureDevSecrets();
run('generating the Prisma client', process.execPath, ['scripts/prisma-generate.mjs']);
// The web app is served from source by its development server, so its production bundle is not built here.
run('building', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only', '--filter=!@firefly/web']);
run('migrating the database', 'npx', ['tsx', 'scripts/db-migrate.ts']);
run('seeding the database', 'npx', ['tsx', 'scripts/db-seed.ts']);
run('checking the supergraph is current', 'npx', ['tsx', 'tools/supergraph/src/cli.ts', '--check']);

// Without a DashScope key, chat runs against the local simulator (the conversation subgraph's default without a
// key is http://127.0.0.1:4010/api/v1). Production refuses this in the conversation subgraph's config.
const useSimulator = !env.DASHSCOPE_API_KEY;
if (useSimulator) {
  if (env.NODE_ENV === 'production') fail('DASHSCOPE_API_KEY is not set; production never uses the DashScope simulator');
  env.DASHSCOPE_SIMULATOR_PORT ??= String(simulator.port);
  env.DASHSCOPE_SIMULATOR_HOST ??= '127.0.0.1';
  env.DASHSCOPE_BASE_URL ??= `http://127.0.0.1:${simulator.port}/api/v1`;
  processes.unshift(simulator);
}
// Without an OSS AccessKey, images and uploads go to the local OSS simulator (the image subgraph's default without a
// key is http://localhost:4011, path-style, bucket firefly-dev). Production refuses this in the image config.
const useOssSimulator = !env.OSS_ACCESS_KEY_ID;
if (useOssSimulator) {
  if (env.NODE_ENV === 'production') fail('OSS_ACCESS_KEY_ID is not set; production never uses the OSS simulator');
  env.OSS_SIMULATOR_PORT ??= String(ossSimulator.port);
  env.OSS_SIMULATOR_HOST ??= '127.0.0.1';
  env.OSS_ENDPOINT ??= `http://localhost:${ossSimulator.port}`;
  processes.unshift(ossSimulator);
}
const usePayments = usePaymentSimulator(paymentSimulator.port);
if (usePayments) processes.unshift(paymentSimulator);
processes.forEach((spec, index) => startProcess(spec, index));
await Promise.all(processes.map((spec) => waitForHealth(spec)));

console.log(`
\x1b[1m萤火AI Firefly AI is running\x1b[0m
  Web app                      http://localhost:${web.port}   (open in a browser: Vite dev server, hot reload)
  GraphQL (HTTP + graphql-ws)  http://localhost:${ports.gateway}/graphql
  Apollo Sandbox               http://localhost:${ports.gateway}/graphql   (open in a browser)
  JWKS                         http://localhost:${ports.gateway}/.well-known/jwks.json
  Metrics                      http://localhost:${ports.gateway}/metrics
  Subgraphs                    user :${ports.user} · conversation :${ports.conversation} · image :${ports.image} · billing :${ports.billing}
  Image worker                 http://localhost:${ports.imageWorker}/metrics   (runs queued image jobs; start more for more throughput)
Press Ctrl-C to stop.
`);
if (usePayments) {
  console.log(`\x1b[33;1m
  ⚠  No Alipay / WeChat Pay credentials: payments use the local payment SIMULATOR on :${paymentSimulator.port}.
     No money moves. An order's payment.payUrl opens the simulator's cashier; "Pay" there pays the order.
     Set ALIPAY_* and/or WECHATPAY_* (in .env, see README "Payments") to use the real providers.
\x1b[0m`);
}
if (useSimulator) {
  console.log(`\x1b[33;1m
  ⚠  DASHSCOPE_API_KEY is not set: chat and images use the local DashScope SIMULATOR on :${simulator.port}.
     Answers are generated locally, not by Qwen. Set DASHSCOPE_API_KEY (in .env) to use Alibaba Cloud DashScope.
\x1b[0m`);
}
if (useOssSimulator) {
  console.log(`\x1b[33;1m
  ⚠  OSS_ACCESS_KEY_ID is not set: images and uploads are stored in the local OSS SIMULATOR on :${ossSimulator.port} (in memory,
     lost when it stops). Set OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_BUCKET (in .env) to use Alibaba Cloud OSS.
\x1b[0m`);
}
