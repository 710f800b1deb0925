import type { Location } from 'graphql';

/** One composition, access or description error, already attributed to subgraphs and source locations. */
export interface CompositionProblem {
  /** Federation's error code (e.g. `FIELD_TYPE_MISMATCH`), or ours: `ACCESS_NOT_DECLARED`, `UNKNOWN_POLICY`, … */
  code: string;
  message: string;
  /** The subgraphs involved, in composition order. */
  subgraphs: string[];
  /** `path:line:column` of every node the error points at. */
  locations: string[];
}

/** `path:line:column` of a node, as a one-element list (none when the node has no location). */
export function locationOf(loc: Location | undefined): string[] {
  return loc === undefined ? [] : [`${loc.source.name}:${loc.startToken.line}:${loc.startToken.column}`];
}

/** One line per problem: `CODE [subgraphs] message (at path:line:col, …)`. */
export function formatCompositionErrors(problems: readonly CompositionProblem[]): string {
  return problems
    .map((p) => {
      const where = p.locations.length > 0 ? ` (at ${p.locations.join(', ')})` : '';
      const who = p.subgraphs.length > 0 ? `[${p.subgraphs.join(', ')}] ` : '';
      // Federation prefixes some messages with "[subgraph] " already; do not say it twice.
      const message = p.message.replace(/^\[[\w-]+\]\s*/, '');
      return `${p.code} ${who}${message.replace(/\s*\n\s*/g, ' ')}${where}`;
    })
    .join('\n');
}

/** The parts of a GraphQLError we read. Duck-typed: federation throws errors of its own (CommonJS) graphql copy. */
interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
  nodes?: readonly { loc?: Location }[];
  source?: { name: string };
  locations?: readonly { line: number; column: number }[];
}

function isGraphQLErrorLike(error: unknown): error is GraphQLErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

/**
 * Attributes a parse or composition error to the subgraphs it names (message prefix, node locations) using
 * `sourceToSubgraph` (source file name → subgraph name, in composition order).
 */
export function toProblem(
  error: unknown,
  fallbackSubgraph: string | undefined,
  sourceToSubgraph: ReadonlyMap<string, string>,
  fallbackCode = 'COMPOSITION_FAILED',
): CompositionProblem {
  if (!isGraphQLErrorLike(error)) {
    return {
      code: fallbackCode,
      message: String(error),
      subgraphs: fallbackSubgraph === undefined ? [] : [fallbackSubgraph],
      locations: [],
    };
  }
  const subgraphs = new Set<string>();
  const locations: string[] = [];
  const prefixed = /^\[([\w-]+)\]/.exec(error.message)?.[1];
  if (prefixed !== undefined) subgraphs.add(prefixed);
  if (fallbackSubgraph !== undefined) subgraphs.add(fallbackSubgraph);
  for (const node of error.nodes ?? []) {
    const loc = node.loc;
    if (loc === undefined) continue;
    const owner = sourceToSubgraph.get(loc.source.name);
    if (owner !== undefined) subgraphs.add(owner);
    locations.push(...locationOf(loc));
  }
  if (locations.length === 0 && error.source !== undefined && error.locations !== undefined) {
    const owner = sourceToSubgraph.get(error.source.name);
    if (owner !== undefined) subgraphs.add(owner);
    for (const l of error.locations) locations.push(`${error.source.name}:${l.line}:${l.column}`);
  }
  const order = [...sourceToSubgraph.values()];
  const code = error.extensions?.['code'];
  return {
    code: typeof code === 'string' ? code : fallbackCode,
    message: error.message,
    subgraphs: [...subgraphs].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    locations,
  };
}
