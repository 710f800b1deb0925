import { Kind, parse, print, visit, type DirectiveNode } from 'graphql';
import { ACCESS_DIRECTIVES } from '@firefly/server-kit/access-rules';

/**
 * Federation's access-control features (`@authenticated`, `@requiresScopes`, `@policy`). Composition links them
 * into the supergraph `for: SECURITY`, and `@apollo/gateway` (unlike Apollo Router) refuses to load a supergraph
 * with a SECURITY feature it cannot enforce ("feature https://specs.apollo.dev/authenticated/v0.1 is for: SECURITY
 * but is unsupported"). In this project the subgraph that owns a field enforces them from its own SDL (see
 * docs/architecture.md, "Trust"), so the committed supergraph leaves them out; `@inaccessible`, which the gateway
 * does apply, stays.
 */
const ENFORCED_FEATURE_URL = new RegExp(`^https://specs\\.apollo\\.dev/(${ACCESS_DIRECTIVES.join('|')})/v\\d+\\.\\d+$`);

/** Removes the subgraph-enforced access features (links, directive and scalar definitions, applications) from a supergraph. */
export function removeSubgraphEnforcedFeatures(supergraphSdl: string): string {
  const document = parse(supergraphSdl);
  const names = new Set<string>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of def.directives ?? []) {
      const feature = enforcedFeatureName(directive);
      if (feature !== undefined) names.add(feature);
    }
  }
  if (names.size === 0) return supergraphSdl;
  const isFeatureElement = (name: string): boolean =>
    names.has(name) || [...names].some((feature) => name.startsWith(`${feature}__`));
  const stripped = visit(document, {
    Directive: (node) => (isFeatureElement(node.name.value) || enforcedFeatureName(node) !== undefined ? null : undefined),
    DirectiveDefinition: (node) => (isFeatureElement(node.name.value) ? null : undefined),
    ScalarTypeDefinition: (node) => (isFeatureElement(node.name.value) ? null : undefined),
    EnumTypeDefinition: (node) => (isFeatureElement(node.name.value) ? null : undefined),
    InputObjectTypeDefinition: (node) => (isFeatureElement(node.name.value) ? null : undefined),
  });
  return print(stripped);
}

/** The local name of a subgraph-enforced feature when `directive` is the `@link` that imports it. */
function enforcedFeatureName(directive: DirectiveNode): string | undefined {
  if (directive.name.value !== 'link') return undefined;
  const argument = (name: string): string | undefined => {
    const value = directive.arguments?.find((a) => a.name.value === name)?.value;
    return value?.kind === Kind.STRING ? value.value : undefined;
  };
  const match = ENFORCED_FEATURE_URL.exec(argument('url') ?? '');
  if (match === null) return undefined;
  return argument('as') ?? match[1];
}
