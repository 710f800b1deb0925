import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// A vitest run inside a test (tests/e2e/reliability/harness-cleanup.e2e.ts): only the fixture below, with the outer
// run's database and Redis prefix taken from the environment (no global setup of its own).
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    root: new URL('../../../', import.meta.url).pathname,
    include: ['tests/src/nested/hook-timeout.fixture.ts'],
    pool: 'forks',
    reporters: ['default'],
  },
});
