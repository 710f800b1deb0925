/**
 * `npm run pq:manifest -- <directory or glob>... [--output <file>] [--check]` — writes Apollo's persisted query
 * manifest (`{ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, name, type, body }] }`)
 * for the `.graphql` operation files given, with `@apollo/generate-persisted-query-manifest` (the same library, and
 * so the same bodies and ids, as the web app's manifest): each body is the operation printed by graphql-js with its
 * fragments and `__typename` added by Apollo Client, and its id the hex sha256 of the body. A directory stands for
 * every `.graphql` file under it. Without `--output` the manifest goes to stdout; `--check` compares it with the
 * file instead and exits 1 when that file is stale. Publish it with `npm run pq:publish`.
 * Exit codes: 0 written / current, 1 stale or invalid documents, 2 usage.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generatePersistedQueryManifest } from '@apollo/generate-persisted-query-manifest';

const USAGE = 'usage: npm run pq:manifest -- <directory or glob>... [--output <file>] [--check]';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { output: { type: 'string', short: 'o' }, check: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { output, check } = parsed.values;
  if (parsed.positionals.length === 0 || (check && !output)) {
    console.error(USAGE);
    return 2;
  }
  const documents = parsed.positionals.map((path) => (existsSync(path) && statSync(path).isDirectory() ? `${path.replace(/\/+$/, '')}/**/*.graphql` : path));
  // Invalid documents (syntax errors, anonymous or duplicate operations) are reported by the library, which exits 1.
  const manifest = await generatePersistedQueryManifest({ documents });
  if (manifest.operations.length === 0) {
    console.error(`no operations found in ${documents.join(', ')}`);
    return 1;
  }
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (!output) {
    process.stdout.write(text);
    return 0;
  }
  if (check) {
    const current = existsSync(output) ? readFileSync(output, 'utf8') : '';
    if (current === text) return 0;
    console.error(`${output} is stale: run \`npm run pq:manifest -- ${parsed.positionals.join(' ')} --output ${output}\` and commit it`);
    return 1;
  }
  writeFileSync(output, text);
  console.error(`wrote ${manifest.operations.length} operations to ${output}`);
  return 0;
}

process.exitCode = await main();
