// `npm run compose`: composes the four subgraph SDLs into schema/supergraph.graphql (committed; the gateway loads
// it statically).
//
//   npm run compose            compose and write schema/supergraph.graphql
//   npm run compose:check      exit 1 when schema/supergraph.graphql differs from a fresh composition
//   npm run compose -- --out <file>
//                              compose with the routing URLs from the environment (USER_SUBGRAPH_URL, …) into
//                              another file, e.g. for a deployment that does not override URLs in the gateway
//
// The committed file always carries the default localhost URLs, so that it is the same on every machine whatever
// the environment says; the gateway overrides the URLs at run time from its own configuration.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { composeSupergraph } from './compose.ts';
import { formatCompositionErrors } from './problems.ts';
import { DEFAULT_SUBGRAPH_URLS, loadSubgraphs, REPO_ROOT, subgraphUrlsFromEnv, type SubgraphName } from './subgraphs.ts';

/** Options of `main`, for tests. */
export interface ComposeCliOptions {
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Repository root holding `subgraphs/` and `schema/`; defaults to this repository. */
  root?: string;
}

type Command = { kind: 'write' } | { kind: 'check' } | { kind: 'out'; file: string };

const USAGE = 'usage: compose [--check | --out <file>]';

/** The command the arguments ask for, or a usage error. */
function parseArguments(argv: readonly string[]): Command | string {
  const check = argv.includes('--check');
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  const unknown = argv.filter((arg, i) => arg !== '--check' && arg !== '--out' && !(outIndex >= 0 && i === outIndex + 1));
  if (unknown.length > 0) return `unknown argument ${unknown.join(' ')} (${USAGE})`;
  if (outIndex >= 0 && (out === undefined || out.startsWith('--'))) return '--out needs a file path';
  if (check && out !== undefined) return '--check and --out cannot be combined';
  if (out !== undefined) return { kind: 'out', file: out };
  return check ? { kind: 'check' } : { kind: 'write' };
}

/** The first line where two texts differ, 1-based, for a readable "stale" message. */
function firstDifferentLine(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) if (left[i] !== right[i]) return i + 1;
  return 0;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 composition failed or stale, 2 usage). */
export function main(argv: readonly string[], options: ComposeCliOptions = {}): number {
  const root = options.root ?? REPO_ROOT;
  const committedPath = join(root, 'schema', 'supergraph.graphql');
  const command = parseArguments(argv);
  if (typeof command === 'string') {
    console.error(`compose: ${command}`);
    return 2;
  }

  // Only --out honours the environment: the committed file must not depend on who ran the script.
  let urls: Readonly<Record<SubgraphName, string>> = DEFAULT_SUBGRAPH_URLS;
  if (command.kind === 'out') {
    try {
      urls = subgraphUrlsFromEnv(options.env ?? process.env);
    } catch (error) {
      console.error(`compose: ${error instanceof Error ? error.message : String(error)}`);
      return 2;
    }
  }
  const result = composeSupergraph(loadSubgraphs(urls, root));
  if (!result.ok) {
    console.error(`compose: composition failed with ${result.errors.length} error(s):`);
    console.error(formatCompositionErrors(result.errors));
    return 1;
  }
  for (const hint of result.hints) console.warn(`compose: hint: ${hint}`);

  const shown = relative(root, committedPath);
  if (command.kind === 'check') {
    const committed = existsSync(committedPath) ? readFileSync(committedPath, 'utf8') : undefined;
    if (committed === undefined) {
      console.error(`compose: ${shown} is missing; run \`npm run compose\` and commit it`);
      return 1;
    }
    if (committed !== result.supergraphSdl) {
      console.error(
        `compose: ${shown} is stale (first difference at line ${firstDifferentLine(committed, result.supergraphSdl)}); ` +
          'run `npm run compose` and commit the result',
      );
      return 1;
    }
    console.log(`compose: ${shown} is up to date`);
    return 0;
  }

  const target = command.kind === 'write' ? committedPath : isAbsolute(command.file) ? command.file : resolve(process.cwd(), command.file);
  const name = command.kind === 'write' ? shown : target;
  const previous = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  if (previous === result.supergraphSdl) {
    console.log(`compose: ${name} is up to date`);
    return 0;
  }
  writeFileSync(target, result.supergraphSdl);
  console.log(`compose: wrote ${name}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
