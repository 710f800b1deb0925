import { Kind, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode } from 'graphql';
import { ACCESS_DIRECTIVES, ACCESS_POLICIES, ACCESS_SCOPES } from '@firefly/server-kit/access-rules';
import { locationOf, type CompositionProblem } from './problems.ts';

const ROOT_TYPE_NAMES = new Set(['Query', 'Mutation', 'Subscription']);
const ACCESS_DIRECTIVE_NAMES: ReadonlySet<string> = new Set(ACCESS_DIRECTIVES);
const KNOWN_POLICIES: ReadonlySet<string> = new Set(Object.keys(ACCESS_POLICIES));
const KNOWN_SCOPES: ReadonlySet<string> = new Set(Object.keys(ACCESS_SCOPES));

/** Types whose access is decided by the field that returns them. */
function isWrapperType(name: string): boolean {
  return name === 'PageInfo' || name.endsWith('Connection') || name.endsWith('Edge');
}

/** Directive name without federation's namespace prefix (`federation__policy` → `policy`). */
function directiveName(node: ConstDirectiveNode): string {
  return node.name.value.replace(/^federation__/, '');
}

function hasAccessDirective(directives: readonly ConstDirectiveNode[] | undefined): boolean {
  return (directives ?? []).some((d) => ACCESS_DIRECTIVE_NAMES.has(directiveName(d)));
}

function stringsOfNestedList(directive: ConstDirectiveNode, argument: string): string[] {
  const arg = directive.arguments?.find((a) => a.name.value === argument);
  if (arg === undefined) return [];
  const out: string[] = [];
  const visit = (value: typeof arg.value): void => {
    if (value.kind === Kind.LIST) value.values.forEach(visit);
    else if (value.kind === Kind.STRING) out.push(value.value);
  };
  visit(arg.value);
  return out;
}

/**
 * Checks that a subgraph declares access everywhere (composition silently ignores an unknown directive, so a typo
 * such as `@polcy` would otherwise leave a field open):
 * - every field of Query, Mutation and Subscription has an access directive, on the field or on the type;
 * - every field of every other object or interface type has one, on the field or on the type, except the pure
 *   wrappers (`PageInfo`, `*Connection`, `*Edge`);
 * - policy and scope names are those the subgraphs enforce (`ACCESS_POLICIES`, `ACCESS_SCOPES` of server-kit);
 * - an `@inaccessible` root field requires the `service` scope (internal API, never end users).
 */
export function checkAccessDeclarations(subgraph: string, document: DocumentNode): CompositionProblem[] {
  const problems: CompositionProblem[] = [];

  // Type-level directives may sit on the definition or on any `extend type`.
  const typeDirectives = new Map<string, ConstDirectiveNode[]>();
  const fieldsByType: { typeName: string; field: FieldDefinitionNode }[] = [];
  for (const def of document.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION: {
        const name = def.name.value;
        typeDirectives.set(name, [...(typeDirectives.get(name) ?? []), ...(def.directives ?? [])]);
        for (const field of def.fields ?? []) fieldsByType.push({ typeName: name, field });
        break;
      }
      default:
        break;
    }
  }

  // Unknown policy or scope names, wherever the directive is used.
  const checkNames = (directives: readonly ConstDirectiveNode[] | undefined): void => {
    for (const directive of directives ?? []) {
      const name = directiveName(directive);
      const [argument, known] =
        name === 'policy' ? (['policies', KNOWN_POLICIES] as const) : name === 'requiresScopes' ? (['scopes', KNOWN_SCOPES] as const) : [];
      if (argument === undefined || known === undefined) continue;
      for (const value of stringsOfNestedList(directive, argument)) {
        if (known.has(value)) continue;
        problems.push({
          code: name === 'policy' ? 'UNKNOWN_POLICY' : 'UNKNOWN_SCOPE',
          message: `@${name} names "${value}", which no subgraph enforces (known: ${[...known].join(', ')})`,
          subgraphs: [subgraph],
          locations: locationOf(directive.loc),
        });
      }
    }
  };
  for (const directives of typeDirectives.values()) checkNames(directives);

  for (const { typeName, field } of fieldsByType) {
    checkNames(field.directives);
    const coordinate = `${typeName}.${field.name.value}`;
    const typeLevel = hasAccessDirective(typeDirectives.get(typeName));
    const isRoot = ROOT_TYPE_NAMES.has(typeName);
    if (!isRoot && isWrapperType(typeName)) continue;
    if (!typeLevel && !hasAccessDirective(field.directives)) {
      problems.push({
        code: 'ACCESS_NOT_DECLARED',
        message:
          `${coordinate} declares no access: add @authenticated, @requiresScopes or @policy to the field ` +
          `or to type ${typeName}`,
        subgraphs: [subgraph],
        locations: locationOf(field.loc),
      });
    }
    if (isRoot && (field.directives ?? []).some((d) => directiveName(d) === 'inaccessible')) {
      const serviceOnly = (field.directives ?? []).some(
        (d) => directiveName(d) === 'requiresScopes' && stringsOfNestedList(d, 'scopes').includes('service'),
      );
      if (!serviceOnly) {
        problems.push({
          code: 'INTERNAL_FIELD_NOT_SERVICE_ONLY',
          message: `${coordinate} is @inaccessible (internal) but does not require @requiresScopes(scopes: [["service"]])`,
          subgraphs: [subgraph],
          locations: locationOf(field.loc),
        });
      }
    }
  }
  return problems;
}
