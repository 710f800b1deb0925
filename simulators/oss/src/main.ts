import { startOssSimulator, type OssSimulatorOptions } from './simulator.ts';

/**
 * Process entry (`npm start -w @firefly/oss-simulator`, or the bundle `simulators/oss/dist/main.js`).
 * Configuration comes from the environment, parsed here once:
 *
 * - `OSS_SIMULATOR_PORT` (default 4011)
 * - `OSS_SIMULATOR_HOST` (default 127.0.0.1; 0.0.0.0 in containers)
 * - `OSS_SIMULATOR_BUCKET` (default firefly-dev; comma-separated for several)
 * - `OSS_SIMULATOR_ACCESS_KEY_ID` / `OSS_SIMULATOR_ACCESS_KEY_SECRET` (default sim-access-key-id / sim-access-key-secret)
 */
function parseEnv(env: NodeJS.ProcessEnv): OssSimulatorOptions {
  const rawPort = env.OSS_SIMULATOR_PORT;
  const port = rawPort === undefined || rawPort === '' ? 4011 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`OSS_SIMULATOR_PORT must be a TCP port, got ${JSON.stringify(rawPort)}`);
  const buckets = (env.OSS_SIMULATOR_BUCKET || 'firefly-dev').split(',').map((b) => b.trim()).filter(Boolean);
  const id = env.OSS_SIMULATOR_ACCESS_KEY_ID || 'sim-access-key-id';
  const secret = env.OSS_SIMULATOR_ACCESS_KEY_SECRET || 'sim-access-key-secret';
  return { port, host: env.OSS_SIMULATOR_HOST || '127.0.0.1', buckets, accessKeys: { [id]: secret } };
}

async function main(): Promise<void> {
  const simulator = await startOssSimulator(parseEnv(process.env));
  process.stdout.write(`OSS simulator listening on ${simulator.url} (signed URLs on ${simulator.localUrl})\n`);
  process.stdout.write(`  buckets:       ${simulator.buckets.join(', ')}\n  access key id: ${simulator.accessKeyId}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`${signal}: closing OSS simulator\n`);
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`OSS simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
