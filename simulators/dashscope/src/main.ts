import { startDashScopeSimulator } from './simulator.ts';
import type { DashScopeSimulatorOptions } from './types.ts';

/**
 * Process entry (`npm start -w @firefly/dashscope-simulator`, or the bundle `simulators/dashscope/dist/main.js`).
 * Configuration comes from the environment, parsed here once:
 *
 * - `DASHSCOPE_SIMULATOR_PORT` (default 4010)
 * - `DASHSCOPE_SIMULATOR_HOST` (default 127.0.0.1; 0.0.0.0 in containers)
 * - `DASHSCOPE_SIMULATOR_API_KEY` (default sk-simulator; comma-separated for several)
 * - `DASHSCOPE_SIMULATOR_TOKEN_DELAY_MS` (default 30)
 * - `DASHSCOPE_SIMULATOR_PUBLIC_URL` (origin for image result URLs when reached through another host name)
 */
function parseEnv(env: NodeJS.ProcessEnv): DashScopeSimulatorOptions {
  const int = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new Error(`${name} must be an integer between 0 and ${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const options: DashScopeSimulatorOptions = {
    port: int('DASHSCOPE_SIMULATOR_PORT', 4010, 65_535),
    host: env.DASHSCOPE_SIMULATOR_HOST || '127.0.0.1',
    tokenDelayMs: int('DASHSCOPE_SIMULATOR_TOKEN_DELAY_MS', 30),
  };
  const keys = env.DASHSCOPE_SIMULATOR_API_KEY?.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (keys && keys.length > 0) options.apiKey = keys;
  if (env.DASHSCOPE_SIMULATOR_PUBLIC_URL) options.publicUrl = env.DASHSCOPE_SIMULATOR_PUBLIC_URL;
  return options;
}

async function main(): Promise<void> {
  const simulator = await startDashScopeSimulator(parseEnv(process.env));
  process.stdout.write(`DashScope simulator listening on ${simulator.url}\n`);
  process.stdout.write(`  native base:     ${simulator.baseUrl}\n  compatible base: ${simulator.compatibleBaseUrl}\n  api key:         ${simulator.apiKey}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`${signal}: closing DashScope simulator\n`);
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`DashScope simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
