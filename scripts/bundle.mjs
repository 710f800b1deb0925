#!/usr/bin/env node
// Bundles one app entry (gateway or subgraph) into dist/ with esbuild: our workspace packages are compiled in
// (they ship as TypeScript sources), npm dependencies stay external and load from node_modules at run time.
// Usage (from the app's folder): node ../../scripts/bundle.mjs src/main.ts [more entries…]
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const entries = process.argv.slice(2);
if (entries.length === 0) {
  console.error('usage: bundle.mjs <entry.ts> [...]');
  process.exit(2);
}

await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  // A built process is a deployed one: without NODE_ENV it runs as production (packages/config, DEFAULT_NODE_ENV).
  define: { FIREFLY_BUILT: 'true' },
  // Everything from npm stays external; only @firefly/* sources (and the generated Prisma client) are bundled.
  plugins: [
    {
      name: 'externalize-npm',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@firefly/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  banner: { js: `// built from ${JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).name}` },
});
