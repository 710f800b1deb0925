// Lint setup: typescript-eslint's recommended rules (syntax-only, fast) plus a few house rules of this project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through the config module (one per process).' },
      ],
    },
  },
  {
    // Transactions retry on deadlocks and lock-wait timeouts only through @firefly/db's transact() (its file says
    // what a replayable body must promise); a bare $transaction would answer INTERNAL_SERVER_ERROR to a deadlock.
    files: ['subgraphs/**', 'gateway/**', 'packages/**', 'apps/**'],
    ignores: ['**/__tests__/**', '**/*.test.ts', '**/*.type-test.ts'],
    rules: {
      'no-restricted-properties': ['error', { property: '$transaction', message: "Use transact() from '@firefly/db': it retries deadlocks, lock-wait timeouts and write conflicts." }],
    },
  },
  {
    // Configuration modules, entry scripts, compose's secrets preload, the PM2 process file and tests read the environment.
    files: ['**/config.ts', 'docker/dev-secrets.mjs', 'docker/smoke.mjs', 'ecosystem.config.cjs', 'packages/config/**', 'scripts/**', 'tools/*/src/cli.ts', 'simulators/*/src/main.ts', 'tests/**', '**/*.test.ts', '**/*.e2e.ts', '**/main.ts', 'prisma.config.ts', 'packages/db/src/testing.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // PM2 loads its process file with require(): CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
