#!/usr/bin/env node
// Bundles one app entry (gateway or subgraph) into dist/ with esbuild: our workspace packages are compiled in
// (they ship as TypeScript sources), npm dependencies stay external and load from node_modules at run time.
// Usage (from the app's folder): node ../../scripts/bundle.mjs src/main.ts [more entries…]
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// npm installs these under packages/server-kit/node_modules (their peer range excludes the root's newer
// @graphql-tools/utils), where a bundle in another workspace's dist/ cannot find them at run time: bundle them in.
const NESTED = ['graphql-rate-limit-directive', '@graphql-tools/utils'];
const NESTED_DIR = 'packages/server-kit/node_modules';

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
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('@firefly/') || NESTED.includes(args.path)) return undefined;
          // What a nested copy needs (its own @graphql-tools/utils …) comes with it; graphql stays one shared copy.
          if (args.importer.includes(`${NESTED_DIR}/`) && args.path !== 'graphql') return undefined;
          return { path: args.path, external: true };
        });
      },
    },
  ],
  // The bundled-in CommonJS packages require() the external ones (graphql): give the ESM bundle a require.
  banner: {
    js: `// built from ${JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).name}\nimport { createRequire as __fireflyCreateRequire } from 'node:module';\nconst require = __fireflyCreateRequire(import.meta.url);`,
  },
});
