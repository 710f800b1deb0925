// The example partner operation set (schema/operations/partner-example/*.graphql) and its committed manifest: the
// manifest is what `npm run pq:manifest` writes for those files today, and every id is the sha256 of its body.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MANIFEST = 'schema/operations/partner-example.manifest.json';

describe('the example partner manifest', () => {
  it('is current: pq:manifest --check finds nothing to change', () => {
    const run = () =>
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/pq-manifest.ts', 'schema/operations/partner-example', '--output', MANIFEST, '--check'], { cwd: root, stdio: 'pipe' });
    expect(run, `${MANIFEST} is stale: run \`npm run pq:manifest -- schema/operations/partner-example --output ${MANIFEST}\``).not.toThrow();
  }, 60_000);

  it("is in Apollo's format, one operation per file, each id the hex sha256 of its body", () => {
    const manifest = JSON.parse(readFileSync(`${root}${MANIFEST}`, 'utf8')) as { format: string; version: number; operations: Array<{ id: string; name: string; type: string; body: string }> };
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.version).toBe(1);
    expect(manifest.operations.map((o) => o.name)).toEqual(['ChatModels', 'Conversation', 'Dashboard', 'StartConversation']);
    for (const operation of manifest.operations) expect(operation.id).toBe(createHash('sha256').update(operation.body).digest('hex'));
  });
});
