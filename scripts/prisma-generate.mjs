#!/usr/bin/env node
// Generates the Prisma client without Prisma's native schema engine.
// `prisma generate` never uses the schema engine, but the CLI resolves (and would download) it at start-up;
// machines without internet cannot download it, so we point the CLI at a stub that refuses every call.
// See docs/architecture.md, "Data ownership" (migrations).
//
// The client is generated again only when what it is made from changed (the schema files, prisma.config.ts, the
// Prisma versions): `npm test` starts with this script, and rewriting the client while another copy of the suite (or
// `npm start`) in the same checkout is loading it makes that copy fail. PRISMA_GENERATE_FORCE=1 generates anyway.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
const generated = join(root, 'packages', 'db', 'src', 'generated');
// Beside the client's folder, not in it (prisma generate may empty that folder).
const stamp = join(generated, '.prisma-inputs.sha256');
const inputs = createHash('sha256');
for (const file of [join(root, 'prisma.config.ts'), join(root, 'node_modules', 'prisma', 'package.json'), join(root, 'node_modules', '@prisma', 'client', 'package.json')]) {
  inputs.update(existsSync(file) ? readFileSync(file) : file);
}
const schemaDir = join(root, 'prisma', 'schema');
for (const name of readdirSync(schemaDir).sort()) inputs.update(name).update(readFileSync(join(schemaDir, name)));
const digest = inputs.digest('hex');
if (process.env.PRISMA_GENERATE_FORCE !== '1' && existsSync(join(generated, 'prisma', 'client.ts')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
  console.log('Prisma client is up to date with prisma/schema: not generated again');
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
if (result.status === 0) writeFileSync(stamp, digest);
process.exit(result.status ?? 1);
