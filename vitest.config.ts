import { defineConfig } from 'vitest/config';

// One run for the whole repository: unit tests (*.test.ts) next to the code and whole-supergraph scenarios
// (*.e2e.ts) in tests/. The global setup creates a fresh MariaDB database and a Redis key prefix for this run.
export default defineConfig({
  test: {
    include: ['{packages,subgraphs,gateway,tests,scripts}/**/*.{test,e2e}.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['tests/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
