#!/usr/bin/env node
// Generates the Prisma client without Prisma's native schema engine.
// `prisma generate` never uses the schema engine, but the CLI resolves (and would download) it at start-up;
// machines without internet cannot download it, so we point the CLI at a stub that refuses every call.
// See docs/architecture.md, "Data ownership" (migrations).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stub = join(root, 'scripts', 'prisma-engine-stub.sh');
chmodSync(stub, 0o755);
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
if (!existsSync(cli)) {
  console.error('prisma CLI not installed yet (run `npm ci`); skipping client generation');
  process.exit(0);
}
const result = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: stub,
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
