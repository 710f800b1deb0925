/**
 * `tsx scripts/dev-secrets.ts <file>`: writes development secrets to <file> as a JSON object of variables, once —
 * INTERNAL_TOKEN_SECRET, ACCESS_TOKEN_KEYS, and the merchant side of a payment-simulator key set (ALIPAY_*,
 * WECHATPAY_*, PAYMENT_SIMULATOR_URL) whose simulator side goes to payment-dev-keys.json beside it. Entries already in
 * the file are kept (a later run only adds what is missing), so restarts keep sessions, tokens and keys valid.
 * docker/compose.yml's `setup` job runs it into a volume that every app reads through docker/dev-secrets.mjs, so all
 * processes share one key and one secret (without them each would make its own, and the gateway would refuse the
 * user subgraph's tokens). Never for production: there, set real secrets in the environment.
 *
 * PAYMENT_SIMULATOR_URL is where billing reaches the payment simulator: `--payment-simulator-url` (default
 * http://payments-simulator:4012, its compose service).
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKey } from '@firefly/auth';
import { generatePaymentKeySet, merchantEnvOf, type PaymentKeySet } from '@firefly/payments-simulator';

/** The `node` user of the official Node images, which the runtime image runs as. */
const NODE_UID = 1000;

const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'payment-simulator-url': { type: 'string' } } });
const file = positionals[0];
if (!file) {
  console.error('usage: tsx scripts/dev-secrets.ts <file> [--payment-simulator-url <origin>]');
  process.exit(2);
}
mkdirSync(dirname(file), { recursive: true });

function write(path: string, content: unknown): void {
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  // Written by root in the build image, read by the unprivileged runtime image.
  if (process.getuid?.() === 0) chownSync(path, NODE_UID, NODE_UID);
}

const secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
const before = Object.keys(secrets).length;
if (!secrets['INTERNAL_TOKEN_SECRET']) secrets['INTERNAL_TOKEN_SECRET'] = randomBytes(32).toString('hex');
if (!secrets['ACCESS_TOKEN_KEYS']) {
  const key = await generateSigningKey(`dev-${new Date().toISOString().slice(0, 10)}`);
  secrets['ACCESS_TOKEN_KEYS'] = JSON.stringify([key.privateJwk]);
}
const paymentKeysFile = join(dirname(file), 'payment-dev-keys.json');
let paymentKeys: PaymentKeySet;
if (existsSync(paymentKeysFile)) {
  paymentKeys = JSON.parse(readFileSync(paymentKeysFile, 'utf8')) as PaymentKeySet;
} else {
  paymentKeys = generatePaymentKeySet();
  write(paymentKeysFile, paymentKeys);
}
for (const [name, value] of Object.entries(merchantEnvOf(paymentKeys, values['payment-simulator-url'] ?? 'http://payments-simulator:4012'))) {
  secrets[name] ??= value;
}
if (Object.keys(secrets).length === before) {
  console.log(`development secrets: keeping ${file}`);
} else {
  write(file, secrets);
  console.log(`development secrets: wrote ${file} (and ${paymentKeysFile})`);
}
