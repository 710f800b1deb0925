import { readFileSync } from 'node:fs';
import { simulatorKeysOf, type PaymentKeySet } from './keys.ts';
import { startPaymentSimulator } from './simulator.ts';
import type { PaymentSimulatorOptions } from './types.ts';

/**
 * Process entry (`npm start -w @firefly/payments-simulator`, or the bundle `simulators/payments/dist/main.js`).
 * Configuration comes from the environment, parsed here once:
 *
 * - `PAYMENT_SIMULATOR_PORT` (default 4012), `PAYMENT_SIMULATOR_HOST` (default 127.0.0.1)
 * - `PAYMENT_SIMULATOR_PUBLIC_URL` (origin written into cashier and QR URLs; default its own)
 * - `PAYMENT_SIMULATOR_KEYS_FILE`: the development key set (`npm start` writes .data/payment-dev-keys.json, see
 *   src/keys.ts); the simulator reads its own private keys and the merchant's public keys from it
 * - `PAYMENT_SIMULATOR_NOTIFY_RETRY_MS`: comma-separated pauses between notification attempts
 */
function parseEnv(env: NodeJS.ProcessEnv): PaymentSimulatorOptions {
  const file = env.PAYMENT_SIMULATOR_KEYS_FILE;
  if (!file) throw new Error('PAYMENT_SIMULATOR_KEYS_FILE must name the keys file (npm start writes .data/payment-dev-keys.json)');
  const keys = simulatorKeysOf(JSON.parse(readFileSync(file, 'utf8')) as PaymentKeySet);
  const port = Number(env.PAYMENT_SIMULATOR_PORT || 4012);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('PAYMENT_SIMULATOR_PORT must be a TCP port');
  const retry = env.PAYMENT_SIMULATOR_NOTIFY_RETRY_MS?.split(',').map((v) => Number(v.trim()));
  if (retry?.some((v) => !Number.isInteger(v) || v < 0)) throw new Error('PAYMENT_SIMULATOR_NOTIFY_RETRY_MS must be comma-separated milliseconds');
  return {
    port,
    host: env.PAYMENT_SIMULATOR_HOST || '127.0.0.1',
    ...(env.PAYMENT_SIMULATOR_PUBLIC_URL ? { publicUrl: env.PAYMENT_SIMULATOR_PUBLIC_URL } : {}),
    ...(retry ? { notifyRetryMs: retry } : {}),
    alipay: keys.alipay,
    wechat: keys.wechat,
  };
}

async function main(): Promise<void> {
  const simulator = await startPaymentSimulator(parseEnv(process.env));
  process.stdout.write(`Payment simulator (Alipay + WeChat Pay v3) listening on ${simulator.url}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`${signal}: closing the payment simulator\n`);
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Payment simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
