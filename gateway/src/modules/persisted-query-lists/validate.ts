import type { ApolloServerPlugin } from '@apollo/server';
import {
  getOperationAST,
  type GraphQLError,
  Kind,
  validate,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type FieldNode,
} from 'graphql';
import { isAdmin } from '@firefly/auth';
import { manifestRefused, parseManifest, type ManifestOperation } from '@firefly/persisted-queries';
import type { GatewayContext } from '../../context.ts';
import { withHttpStatus } from '../http-errors.ts';
import type { DocumentLimits } from '../limits/index.ts';

const PUBLISH_FIELD = 'publishPersistedQueries';

/**
 * What is wrong with each operation of a manifest for this supergraph: its body must be one operation of the
 * manifest's name (or anonymous) and type (fragments allowed), valid against the API schema, and within every document limit the
 * gateway applies to requests (tokens, depth, aliases, root fields, cost with the operation's default variables).
 */
function checkManifestOperations(operations: readonly ManifestOperation[], schema: GraphQLSchema, limits: DocumentLimits): string[] {
  const problems: string[] = [];
  for (const [index, operation] of operations.entries()) {
    const label = `operations[${index}] (${operation.name.slice(0, 100)})`;
    let document: DocumentNode;
    try {
      document = limits.parse(operation.body);
    } catch (error) {
      problems.push(`${label}: ${error instanceof Error ? error.message : 'unreadable'}`);
      continue;
    }
    // One operation; when it has a name, the manifest's (generated manifests name every operation; a hand-written
    // one may list an anonymous `{ … }`).
    const definitions = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const named = getOperationAST(document);
    if (definitions.length !== 1 || !named || (named.name && named.name.value !== operation.name)) {
      problems.push(`${label}: the body must hold exactly one operation, named ${operation.name}`);
      continue;
    }
    if (named.operation !== operation.type) {
      problems.push(`${label}: the body is a ${named.operation}, not a ${operation.type}`);
      continue;
    }
    const errors = [...validate(schema, document, undefined, { maxErrors: 10 })];
    if (errors.length === 0) errors.push(...limits.check(document));
    if (errors.length > 0) problems.push(`${label}: ${errors.map((e) => e.message).join(' ')}`);
  }
  return problems;
}

/**
 * Checks the manifest of every `publishPersistedQueries` in a mutation against the supergraph and the document
 * limits before the call reaches the user subgraph, which stores it: the gateway is where the schema and the limits
 * that will judge the partner's requests live (the subgraph checks the format and ids again, which needs neither). A
 * refused manifest is answered BAD_USER_INPUT naming the problems, nothing runs, and the old list stays. Only an
 * ADMIN's request is checked here; anyone else's is refused FORBIDDEN by the subgraph (and learns nothing here).
 */
export function publishValidationPlugin(options: { limits: DocumentLimits; schema: () => GraphQLSchema | undefined }): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, contextValue }) {
          if (operation?.operation !== 'mutation' || !isAdmin(contextValue.identity)) return;
          const schema = options.schema();
          if (!schema) return;
          const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
          for (const field of rootFields(operation.selectionSet, fragments, new Set())) {
            if (field.name.value !== PUBLISH_FIELD) continue;
            const argument = field.arguments?.find((a) => a.name.value === 'manifest');
            if (!argument) continue;
            const parsed = parseManifest(valueFromASTUntyped(argument.value, request.variables ?? {}));
            // Format and id problems are the subgraph's to report (it checks them again, with the same words).
            if ('problems' in parsed) continue;
            const problems = checkManifestOperations(parsed.manifest.operations, schema, options.limits);
            if (problems.length > 0) throw withHttpStatus(manifestRefused(problems)) as GraphQLError;
          }
        },
      };
    },
  };
}

function* rootFields(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen: Set<string>): Generator<FieldNode> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) yield selection;
    else if (selection.kind === Kind.INLINE_FRAGMENT) yield* rootFields(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) yield* rootFields(fragment.selectionSet, fragments, seen);
    }
  }
}
