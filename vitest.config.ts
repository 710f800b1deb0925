import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// One run for the whole repository: unit tests (*.test.ts) in each workspace's __tests__/ folders, repository checks
// in tests/repo/ and whole-supergraph scenarios (*.e2e.ts) in tests/e2e/<capability>/ (layout: README, "Tests").
// The global setup creates a fresh MariaDB database and a Redis key prefix for this run.
export default defineConfig({
  resolve: {
    // graphql ships ESM (.mjs) and CommonJS builds; Apollo's CommonJS packages load the latter, so our ESM code
    // must load the very same copy or graphql-js refuses schemas and errors "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['{apps,packages,subgraphs,gateway,simulators,tools,tests}/**/*.{test,e2e}.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['tests/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
