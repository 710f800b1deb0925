import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import {
  getNamedType,
  isCompositeType,
  Kind,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Apollo Server's cache control (the `cache-control` header of every answer, from the schema's `@cacheControl`
 * hints, which the gateway folds into its response cache's policy), without its per-field hooks where the answer
 * is known before anything runs.
 *
 * Apollo's plugin gives every resolved field a `willResolveField` hook (a policy object, closures, an LRU lookup,
 * a callback when the value settles) and takes the lowest `maxAge` of all. A root field whose definition and return
 * type set no `maxAge` (or 0) gets `maxAge: 0` by Apollo's rules, so the whole answer is `no-store` whatever else is
 * resolved: the gateway's `_entities` fetches and every signed-in query of the bench are of this kind. For an
 * operation with such a root field (selected without `@skip`/`@include`), this plugin sets the policy to `maxAge: 0`
 * once, from the document, and skips the per-field hooks; Apollo's plugin then writes the same `no-store` header.
 * Every other operation (the public catalogs, `maxAge: 60`) goes through Apollo's plugin unchanged.
 *
 * Hints come from the schema only: the resolvers of this project set no dynamic hint (`info.cacheControl` is not
 * set on the skipped operations). The one dynamic hint Apollo's libraries give — `@apollo/subgraph`'s `_entities`
 * restricting its policy with the entity type's hint — is honoured: `_entities` counts as uncacheable only while
 * no type of the schema carries a `maxAge`.
 *
 * Register with `ApolloServerPluginCacheControlDisabled()`, which keeps Apollo from adding its own.
 */
export function staticCacheControlPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const apollo = ApolloServerPluginCacheControl() as ApolloServerPlugin<TContext>;
  let isUncacheable: ((operation: OperationDefinitionNode, document: DocumentNode) => boolean) | undefined;
  return {
    async serverWillStart(service) {
      isUncacheable = uncacheableOperations(service.schema);
      return apollo.serverWillStart?.(service);
    },
    async requestDidStart(requestContext) {
      const inner = (await apollo.requestDidStart?.(requestContext)) as GraphQLRequestListener<TContext> | undefined;
      let skipFields = false;
      return {
        async didResolveOperation({ operation, document, overallCachePolicy }) {
          if (operation && isUncacheable?.(operation, document)) {
            skipFields = true;
            overallCachePolicy.restrict({ maxAge: 0 });
          }
        },
        async executionDidStart(executionContext) {
          return skipFields ? undefined : inner?.executionDidStart?.(executionContext);
        },
        async willSendResponse(responseContext) {
          await inner?.willSendResponse?.(responseContext);
        },
      };
    },
  };
}

/**
 * Whether an operation certainly answers `maxAge: 0` by Apollo's cache control rules, judged from its root fields
 * (memoised per operation node: Apollo Server keeps parsed documents, so a repeated query is the same node).
 */
function uncacheableOperations(schema: GraphQLSchema): (operation: OperationDefinitionNode, document: DocumentNode) => boolean {
  const anyTypeMaxAge = Object.values(schema.getTypeMap()).some((type) => !type.name.startsWith('__') && isCompositeType(type) && typeHint(type).maxAge !== undefined);
  const memo = new WeakMap<OperationDefinitionNode, boolean>();
  const rootFieldUncacheable = (root: GraphQLObjectType, name: string): boolean => {
    // __typename and introspection are resolved by graphql-js itself: Apollo's hooks never see them.
    if (name.startsWith('__')) return false;
    const field = root.getFields()[name];
    if (!field) return false;
    // `_entities` raises its own policy to the entity type's hint at run time (@apollo/subgraph).
    if (name === '_entities' && anyTypeMaxAge) return false;
    const named = getNamedType(field.type);
    const fromType = isCompositeType(named) ? typeHint(named) : {};
    const fromField = hintOf(field.astNode?.directives);
    // Apollo: the type's hint, replaced by the field's (unless the field only inherits); a root field left without
    // maxAge gets 0.
    const maxAge = fromField.inheritMaxAge ? fromType.maxAge : (fromField.maxAge ?? fromType.maxAge);
    return maxAge === undefined || maxAge === 0;
  };
  return (operation, document) => {
    let known = memo.get(operation);
    if (known === undefined) {
      const root = schema.getRootType(operation.operation);
      known = root ? someRootField(operation.selectionSet, document, root.name, new Set(), (name) => rootFieldUncacheable(root, name)) : false;
      memo.set(operation, known);
    }
    return known;
  };
}

/** Whether a root field selected unconditionally (no @skip/@include on the way) satisfies `test`. */
function someRootField(selectionSet: SelectionSetNode, document: DocumentNode, rootName: string, seen: Set<string>, test: (name: string) => boolean): boolean {
  for (const selection of selectionSet.selections) {
    if (isConditional(selection.directives)) continue;
    switch (selection.kind) {
      case Kind.FIELD:
        if (test(selection.name.value)) return true;
        break;
      case Kind.INLINE_FRAGMENT:
        if ((!selection.typeCondition || selection.typeCondition.name.value === rootName) && someRootField(selection.selectionSet, document, rootName, seen, test)) return true;
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        if (seen.has(name)) break;
        seen.add(name);
        const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
        if (fragment?.kind === Kind.FRAGMENT_DEFINITION && fragment.typeCondition.name.value === rootName && someRootField(fragment.selectionSet, document, rootName, seen, test)) return true;
        break;
      }
    }
  }
  return false;
}

function isConditional(directives: readonly { name: { value: string } }[] | undefined): boolean {
  return directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include') ?? false;
}

interface Hint {
  maxAge?: number;
  inheritMaxAge?: boolean;
}

/** A type's `@cacheControl`, on its definition or an extension (as Apollo's plugin reads it). */
function typeHint(type: GraphQLNamedType): Hint {
  for (const node of [type.astNode, ...(type.extensionASTNodes ?? [])]) {
    const hint = node && 'directives' in node ? readHint(node.directives) : undefined;
    if (hint) return hint;
  }
  return {};
}

function hintOf(directives: readonly ConstDirectiveNode[] | undefined): Hint {
  return readHint(directives) ?? {};
}

/** `@cacheControl(maxAge:, inheritMaxAge:)` as Apollo's plugin reads it; undefined without the directive or arguments. */
function readHint(directives: readonly ConstDirectiveNode[] | undefined): Hint | undefined {
  const directive = directives?.find((d) => d.name.value === 'cacheControl');
  if (!directive?.arguments) return undefined;
  const argument = (name: string) => directive.arguments!.find((a) => a.name.value === name)?.value;
  const inherit = argument('inheritMaxAge');
  if (inherit?.kind === Kind.BOOLEAN && inherit.value) return { inheritMaxAge: true };
  const maxAge = argument('maxAge');
  return { maxAge: maxAge?.kind === Kind.INT ? parseInt(maxAge.value, 10) : undefined };
}
