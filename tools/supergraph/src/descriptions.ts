import { Kind, type ConstDirectiveNode, type DefinitionNode, type DocumentNode, type Location, type StringValueNode } from 'graphql';
import { ACCESS_DIRECTIVES } from '@firefly/server-kit/access-rules';
import { locationOf, type CompositionProblem } from './problems.ts';

const ACCESS_DIRECTIVE_NAMES: ReadonlySet<string> = new Set(ACCESS_DIRECTIVES);
/** How a description states the access rule: a sentence of its own, starting with this word. */
const ACCESS_SENTENCE = /(^|\n|\.\s+)Access:\s+\S/;

interface Described {
  readonly description?: StringValueNode | undefined;
  readonly directives?: readonly ConstDirectiveNode[] | undefined;
  readonly loc?: Location | undefined;
}

function declaresAccess(node: Described): boolean {
  return (node.directives ?? []).some((d) => ACCESS_DIRECTIVE_NAMES.has(d.name.value.replace(/^federation__/, '')));
}

/**
 * Checks that a subgraph's schema documents itself, as Apollo Sandbox and every client's tooling show it: every
 * type, field, argument, input field and enum value has a description (`MISSING_DESCRIPTION`), and every type or
 * field that declares access says who may use it in an `Access: …` sentence (`ACCESS_NOT_DESCRIBED`), so the rule
 * the subgraph enforces is readable where the field is. Extensions (`extend type`) are checked like definitions;
 * the `_Service`/`_Entity` machinery federation adds does not appear in the SDL and is not checked.
 */
export function checkDescriptions(subgraph: string, document: DocumentNode): CompositionProblem[] {
  const problems: CompositionProblem[] = [];
  const check = (coordinate: string, node: Described, what: string): void => {
    const text = node.description?.value.trim() ?? '';
    if (text === '') {
      problems.push({
        code: 'MISSING_DESCRIPTION',
        message: `${coordinate} has no description: say what the ${what} is in a "…" string above it`,
        subgraphs: [subgraph],
        locations: locationOf(node.loc),
      });
      return;
    }
    if (declaresAccess(node) && !ACCESS_SENTENCE.test(text)) {
      problems.push({
        code: 'ACCESS_NOT_DESCRIBED',
        message: `${coordinate} declares access but its description does not say who may use it (add an "Access: …" sentence)`,
        subgraphs: [subgraph],
        locations: locationOf(node.loc),
      });
    }
  };

  for (const def of document.definitions) {
    const typeName = nameOf(def);
    if (typeName === undefined) continue;
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        // An `extend type` of an entity owned elsewhere carries no description of its own; its fields do.
        if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION) check(typeName, def, 'type');
        for (const field of def.fields ?? []) {
          const coordinate = `${typeName}.${field.name.value}`;
          check(coordinate, field, 'field');
          for (const arg of field.arguments ?? []) check(`${coordinate}(${arg.name.value}:)`, arg, 'argument');
        }
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        check(typeName, def, 'input type');
        for (const field of def.fields ?? []) check(`${typeName}.${field.name.value}`, field, 'input field');
        break;
      case Kind.ENUM_TYPE_DEFINITION:
        check(typeName, def, 'enum');
        for (const value of def.values ?? []) check(`${typeName}.${value.name.value}`, value, 'enum value');
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.UNION_TYPE_DEFINITION:
        check(typeName, def, 'type');
        break;
      default:
        break;
    }
  }
  return problems;
}

function nameOf(def: DefinitionNode): string | undefined {
  return 'name' in def && def.name !== undefined ? def.name.value : undefined;
}
