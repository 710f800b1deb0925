export { checkAccessDeclarations } from './access-declarations.ts';
export { main, type ComposeCliOptions } from './cli.ts';
export { composeSupergraph, type ComposeResult } from './compose.ts';
export { checkDescriptions } from './descriptions.ts';
export { formatCompositionErrors, type CompositionProblem } from './problems.ts';
export { removeSubgraphEnforcedFeatures } from './security-features.ts';
export {
  DEFAULT_SUBGRAPH_URLS,
  loadSubgraphs,
  REPO_ROOT,
  SUBGRAPH_NAMES,
  subgraphUrlsFromEnv,
  SUPERGRAPH_PATH,
  type SubgraphName,
  type SubgraphSource,
} from './subgraphs.ts';
