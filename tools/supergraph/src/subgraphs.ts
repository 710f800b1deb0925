import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The subgraphs of the supergraph, in composition order. */
export const SUBGRAPH_NAMES = ['user', 'conversation', 'image', 'billing'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Routing URLs written into the committed supergraph: each subgraph's default port (see the README). */
export const DEFAULT_SUBGRAPH_URLS: Readonly<Record<SubgraphName, string>> = Object.freeze({
  user: 'http://localhost:4001/graphql',
  conversation: 'http://localhost:4002/graphql',
  image: 'http://localhost:4003/graphql',
  billing: 'http://localhost:4004/graphql',
});

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SUPERGRAPH_PATH = join(REPO_ROOT, 'schema', 'supergraph.graphql');

/** Environment variable naming each subgraph's routing URL, e.g. `USER_SUBGRAPH_URL`. */
function subgraphUrlVariable(name: SubgraphName): string {
  return `${name.toUpperCase()}_SUBGRAPH_URL`;
}

/** Routing URLs from the environment (`USER_SUBGRAPH_URL`, …), each defaulting to `DEFAULT_SUBGRAPH_URLS`. */
export function subgraphUrlsFromEnv(env: NodeJS.ProcessEnv): Record<SubgraphName, string> {
  const urls = { ...DEFAULT_SUBGRAPH_URLS };
  for (const name of SUBGRAPH_NAMES) {
    const value = env[subgraphUrlVariable(name)];
    if (value === undefined || value === '') continue;
    if (!URL.canParse(value)) {
      throw new Error(`${subgraphUrlVariable(name)} must be an absolute URL such as ${DEFAULT_SUBGRAPH_URLS[name]}`);
    }
    urls[name] = value;
  }
  return urls;
}

/** One subgraph's SDL as composition input. */
export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
  /** Shown in error locations; defaults to `<name>.graphql`. */
  path?: string;
}

/** Reads `subgraphs/<name>/schema.graphql` for every subgraph, with the given routing URLs. */
export function loadSubgraphs(
  urls: Readonly<Record<SubgraphName, string>> = DEFAULT_SUBGRAPH_URLS,
  root: string = REPO_ROOT,
): SubgraphSource[] {
  return SUBGRAPH_NAMES.map((name) => {
    const file = join(root, 'subgraphs', name, 'schema.graphql');
    return { name, url: urls[name], sdl: readFileSync(file, 'utf8'), path: relative(root, file) };
  });
}
