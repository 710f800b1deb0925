/**
 * `tsx scripts/dev-secrets.ts <file>`: writes development secrets — INTERNAL_TOKEN_SECRET and ACCESS_TOKEN_KEYS —
 * to <file> as a JSON object, once: an existing file is kept, so restarts keep sessions and tokens valid.
 * docker/compose.yml's `setup` job runs it into a volume that every app reads through docker/dev-secrets.mjs, so
 * all processes share one key and one secret (without them each would make its own, and the gateway would refuse
 * the user subgraph's tokens). Never for production: there, set real secrets in the environment.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSigningKey } from '@firefly/auth';

/** The `node` user of the official Node images, which the runtime image runs as. */
const NODE_UID = 1000;

const file = process.argv[2];
if (!file) {
  console.error('usage: tsx scripts/dev-secrets.ts <file>');
  process.exit(2);
}
if (existsSync(file)) {
  console.log(`development secrets: keeping ${file}`);
} else {
  mkdirSync(dirname(file), { recursive: true });
  const key = await generateSigningKey(`dev-${new Date().toISOString().slice(0, 10)}`);
  const secrets = { INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'), ACCESS_TOKEN_KEYS: JSON.stringify([key.privateJwk]) };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  // Written by root in the build image, read by the unprivileged runtime image.
  if (process.getuid?.() === 0) chownSync(file, NODE_UID, NODE_UID);
  console.log(`development secrets: wrote ${file}`);
}
