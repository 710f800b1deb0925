// PM2 process file: the built platform on one host (`npm run build`, then `npm run start:prod`; docs/operations.md,
// "PM2"). The gateway runs in cluster mode (GATEWAY_INSTANCES workers sharing port 4000; `pm2 scale gateway <n>`
// changes it live); the subgraphs run one forked process each, and so do the image workers (PM2_IMAGE_WORKERS of them,
// default 1, each on its own health/metrics port from IMAGE_WORKER_PORT up); outside production, the DashScope
// simulator without DASHSCOPE_API_KEY and the OSS simulator without OSS_ACCESS_KEY_ID. Migrate and seed before starting
// (`npm run db:migrate && npm run db:seed`).
//
// Configuration comes from the environment of `pm2 start`, then from `.env` in this folder for what the environment
// leaves unset (every variable: .env.example). Checked by tests/e2e/operations/pm2.e2e.ts, which starts it.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parseEnv } = require('node:util');

const dotenvPath = join(__dirname, '.env');
const dotenv = existsSync(dotenvPath) ? parseEnv(readFileSync(dotenvPath, 'utf8')) : {};
/** `.env` values the environment does not set (PM2 passes its own environment to the apps on top). */
const fromFile = Object.fromEntries(Object.entries(dotenv).filter(([name]) => process.env[name] === undefined));
const setting = (name) => process.env[name] ?? fromFile[name];

/** A count read here rather than by the apps: a whole number above 0. */
function count(name, fallback) {
  const value = Number(setting(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number above 0, got ${setting(name)}`);
  return value;
}
/** Gateway workers (cluster mode, sharing the gateway's port). Default 2. */
const gatewayInstances = count('PM2_GATEWAY_INSTANCES', 2);
/** Image worker processes. Each serves /healthz, /readyz and /metrics on its own port, so they are forked apps. Default 1. */
const imageWorkers = count('PM2_IMAGE_WORKERS', 1);
const imageWorkerPort = Number(setting('IMAGE_WORKER_PORT') ?? 4005);

/**
 * One app. Every process stops cleanly on SIGINT (PM2's stop signal) or SIGTERM within SHUTDOWN_GRACE_SECONDS (default
 * 10 s): stop accepting, drain, exit 0; PM2 waits kill_timeout before SIGKILL.
 */
function app(name, script, options = {}) {
  return {
    name,
    script,
    cwd: __dirname,
    node_args: ['--enable-source-maps'],
    exec_mode: 'fork',
    instances: 1,
    env: { ...fromFile },
    kill_timeout: 30_000,
    autorestart: true,
    min_uptime: 10_000,
    max_restarts: 10,
    exp_backoff_restart_delay: 200,
    merge_logs: true,
    ...options,
  };
}

// The built apps run as production when NODE_ENV is unset (packages/config), so the simulators only run when it says otherwise.
const development = ['development', 'test'].includes(setting('NODE_ENV') ?? '');
const useDashScopeSimulator = development && !setting('DASHSCOPE_API_KEY');
const useOssSimulator = development && !setting('OSS_ACCESS_KEY_ID');

module.exports = {
  apps: [
    ...(useDashScopeSimulator ? [app('dashscope-simulator', 'simulators/dashscope/dist/main.js')] : []),
    ...(useOssSimulator ? [app('oss-simulator', 'simulators/oss/dist/main.js')] : []),
    app('user', 'subgraphs/user/dist/main.js'),
    app('conversation', 'subgraphs/conversation/dist/main.js'),
    app('image', 'subgraphs/image/dist/main.js'),
    app('billing', 'subgraphs/billing/dist/main.js'),
    // One app per worker rather than `instances`, so each gets its own port (PM2's cluster mode shares one port, and
    // a worker's metrics must be scraped per process).
    ...Array.from({ length: imageWorkers }, (_, i) =>
      app(imageWorkers === 1 ? 'image-worker' : `image-worker-${i + 1}`, 'apps/image-worker/dist/main.js', {
        env: { ...fromFile, IMAGE_WORKER_PORT: String(imageWorkerPort + i) },
      }),
    ),
    app('gateway', 'gateway/dist/main.js', { exec_mode: 'cluster', instances: gatewayInstances }),
  ],
};
