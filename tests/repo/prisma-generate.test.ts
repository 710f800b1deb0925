// `npm test` and `npm start` begin with scripts/prisma-generate.mjs. Rewriting the generated client while another
// copy of the suite in the same checkout is loading it fails that copy, so the script leaves a client generated from
// the same inputs (prisma/schema, prisma.config.ts, the Prisma versions) alone.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT = join(ROOT, 'packages/db/src/generated/prisma/client.ts');
const generate = () => spawnSync(process.execPath, ['scripts/prisma-generate.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('scripts/prisma-generate.mjs', () => {
  it('leaves an up-to-date client untouched', { timeout: 240_000 }, () => {
    // Brings the client up to date first, if this checkout's was made before the script kept its inputs' digest.
    expect(generate().status).toBe(0);
    const before = statSync(CLIENT).mtimeMs;
    const again = generate();
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('Prisma client is up to date with prisma/schema: not generated again');
    expect(statSync(CLIENT).mtimeMs).toBe(before);
  });
});
