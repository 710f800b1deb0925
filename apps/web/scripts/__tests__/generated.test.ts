// Committed generated files stay what their generators write today: the typed documents (GraphQL Code Generator)
// and the persisted query manifest (@apollo/generate-persisted-query-manifest). Regenerate with
// `npm run codegen -w @firefly/web` and `npm run pq:manifest -w @firefly/web` (both part of its build).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatePersistedQueryManifest } from '@apollo/generate-persisted-query-manifest';

const appDir = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

describe('generated files of the web app', () => {
  it('the persisted query manifest is current', async () => {
    const configPath = `${appDir}persisted-query-manifest.config.json`;
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { documents: string[] };
    const cwd = process.cwd();
    process.chdir(appDir);
    try {
      const fresh = await generatePersistedQueryManifest(config, configPath);
      const committed = JSON.parse(readFileSync(`${appDir}persisted-query-manifest.json`, 'utf8'));
      expect(committed, 'persisted-query-manifest.json is stale: run `npm run pq:manifest -w @firefly/web` and commit it').toEqual(fresh);
    } finally {
      process.chdir(cwd);
    }
  });

  it('the typed documents are current', () => {
    // The CLI's bin is not an export of the package: find it next to the package's entry.
    const cli = join(dirname(require.resolve('@graphql-codegen/cli')), '..', 'esm', 'bin.js');
    // --check exits non-zero (and the call throws) when a generated file would change.
    expect(() => execFileSync(process.execPath, [cli, '--config', 'codegen.ts', '--check'], { cwd: appDir, stdio: 'pipe' })).not.toThrow();
  }, 60_000);
});
