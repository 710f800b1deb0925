import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  parse,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** `@listSize` of one field, as the cost directive spec defines it. */
export interface ListSize {
  assumedSize?: number | undefined;
  slicingArguments?: readonly string[] | undefined;
  sizedFields?: readonly string[] | undefined;
}

/** `@cost` and `@listSize` read from the composed supergraph, by `Type.field` (and `@cost` by type name). */
export interface CostDirectives {
  fieldWeights: ReadonlyMap<string, number>;
  typeWeights: ReadonlyMap<string, number>;
  listSizes: ReadonlyMap<string, ListSize>;
}

const COST_SPEC = 'https://specs.apollo.dev/cost/';

/**
 * Reads `@cost(weight:)` and `@listSize(...)` from a supergraph SDL. Subgraphs declare them (federation 2.9's cost
 * directives); composition carries them into the supergraph under the cost spec's `@link`, whose `import` names them.
 */
export function readCostDirectives(supergraphSdl: string): CostDirectives {
  const document = parse(supergraphSdl, { noLocation: true });
  let costName = 'cost';
  let listSizeName = 'listSize';
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      const url = argument(link, 'url');
      if (link.name.value !== 'link' || typeof url !== 'string' || !url.startsWith(COST_SPEC)) continue;
      for (const item of (argument(link, 'import') as unknown[] | undefined) ?? []) {
        if (typeof item === 'string') continue;
        const { name, as } = item as { name?: string; as?: string };
        if (name === '@cost' && as) costName = as.replace(/^@/, '');
        if (name === '@listSize' && as) listSizeName = as.replace(/^@/, '');
      }
    }
  }
  const fieldWeights = new Map<string, number>();
  const typeWeights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value === costName) typeWeights.set(typeName, Number(argument(directive, 'weight')));
    }
    if (!('fields' in definition)) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${typeName}.${field.name.value}`;
      for (const directive of field.directives ?? []) {
        if (directive.name.value === costName) fieldWeights.set(coordinate, Number(argument(directive, 'weight')));
        if (directive.name.value === listSizeName) {
          listSizes.set(coordinate, {
            assumedSize: argument(directive, 'assumedSize') as number | undefined,
            slicingArguments: argument(directive, 'slicingArguments') as string[] | undefined,
            sizedFields: argument(directive, 'sizedFields') as string[] | undefined,
          });
        }
      }
    }
  }
  return { fieldWeights, typeWeights, listSizes };
}

function argument(directive: DirectiveNode, name: string): unknown {
  const node = directive.arguments?.find((a) => a.name.value === name)?.value;
  return node ? constValue(node) : undefined;
}

/** A literal's value, without a type to coerce it against; a variable is null. */
function constValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number(node.value);
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.LIST:
      return node.values.map((value) => constValue(value));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, constValue(field.value)]));
    default:
      return null;
  }
}

export interface CostSettings {
  /** Size assumed for a list field with no slicing argument given and no `@listSize(assumedSize:)`. */
  defaultListSize: number;
}

/**
 * The static cost of an operation in the style of the IBM GraphQL cost directive spec: every field of a composite
 * type costs its `@cost` weight (default 1), a leaf field its `@cost` weight (default 0), and a list multiplies
 * what it holds by its size — the value of its slicing argument (`first`, from the document or its variables),
 * else `@listSize(assumedSize:)`, else the default. `@listSize(sizedFields:)` moves that size onto the named child
 * fields (a connection's `edges`). Each fragment is costed once per operation and reused at every spread, so the
 * walk is linear in the document's size however often a fragment is spread.
 */
export function operationCost(
  schema: GraphQLSchema,
  directives: CostDirectives,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  settings: CostSettings,
  /** Told the name of every variable the cost was computed from (a list size given by a variable). */
  readVariable?: (name: string) => void,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, constValue(definition.defaultValue));
  }

  const argumentValue = (field: FieldNode, definition: GraphQLField<unknown, unknown>, name: string): unknown => {
    const node = field.arguments?.find((a) => a.name.value === name)?.value;
    if (!node) return definition.args.find((a) => a.name === name)?.defaultValue;
    if (node.kind === Kind.VARIABLE) {
      const variable = node.name.value;
      readVariable?.(variable);
      return Object.hasOwn(variables, variable) ? variables[variable] : variableDefaults.get(variable);
    }
    return node.kind === Kind.INT ? Number(node.value) : undefined;
  };

  const sizeOf = (field: FieldNode, definition: GraphQLField<unknown, unknown>, listSize: ListSize | undefined): number => {
    const slicing = listSize?.slicingArguments ?? ['first', 'last'];
    let size: number | undefined;
    for (const name of slicing) {
      const value = argumentValue(field, definition, name);
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) size = Math.max(size ?? 0, value);
    }
    return size ?? listSize?.assumedSize ?? settings.defaultListSize;
  };

  // Fields a `@listSize(sizedFields:)` may size (a connection's `edges`). A selection set's cost is kept as a summary:
  // what it costs outright, plus — per such field name — what one item costs and what the field costs unsized, so a
  // fragment is costed once and the size of the field it is spread into is applied at each spread.
  const sizable = new Set([...directives.listSizes.values()].flatMap((listSize) => listSize.sizedFields ?? []));
  interface Summary {
    base: number;
    sized: Map<string, { perItem: number; unsized: number }>;
  }
  const fragmentSummaries = new Map<string, Summary>();
  const emptySummary = (): Summary => ({ base: 0, sized: new Map() });
  const addInto = (target: Summary, source: Summary): void => {
    target.base += source.base;
    for (const [name, part] of source.sized) {
      const current = target.sized.get(name);
      target.sized.set(name, current ? { perItem: current.perItem + part.perItem, unsized: current.unsized + part.unsized } : { ...part });
    }
  };
  const resolve = (summary: Summary, sizes: ReadonlyMap<string, number>): number => {
    let total = summary.base;
    for (const [name, part] of summary.sized) {
      const size = sizes.get(name);
      total += size === undefined ? part.unsized : size * part.perItem;
    }
    return total;
  };

  const selectionSummary = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, seen: Set<string>): Summary => {
    const summary = emptySummary();
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const cost = fieldCost(selection, parent, seen);
        if (sizable.has(selection.name.value)) addInto(summary, { base: 0, sized: new Map([[selection.name.value, cost]]) });
        else summary.base += cost.unsized;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) addInto(summary, selectionSummary(selection.selectionSet, type, seen));
      } else {
        addInto(summary, fragmentSummary(selection.name.value, seen));
      }
    }
    return summary;
  };

  // A fragment spread inside itself is invalid (validation refuses it); here it simply costs nothing more.
  const fragmentSummary = (name: string, seen: Set<string>): Summary => {
    const known = fragmentSummaries.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return emptySummary();
    const type = schema.getType(fragment.typeCondition.name.value);
    seen.add(name);
    const summary = type && isCompositeType(type) ? selectionSummary(fragment.selectionSet, type, seen) : emptySummary();
    seen.delete(name);
    fragmentSummaries.set(name, summary);
    return summary;
  };

  /** A field's cost: `unsized` as it stands, `perItem` when a parent's `sizedFields` gives its size. */
  const fieldCost = (field: FieldNode, parent: GraphQLCompositeType, seen: Set<string>): { perItem: number; unsized: number } => {
    if (field.name.value.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) return { perItem: 0, unsized: 0 };
    const definition = parent.getFields()[field.name.value];
    if (!definition) return { perItem: 0, unsized: 0 };
    const coordinate = `${parent.name}.${field.name.value}`;
    const named = getNamedType(definition.type);
    const weight = directives.fieldWeights.get(coordinate) ?? directives.typeWeights.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
    const listSize = directives.listSizes.get(coordinate);
    const sizes = new Map<string, number>();
    if (listSize?.sizedFields?.length) {
      const size = sizeOf(field, definition, listSize);
      for (const name of listSize.sizedFields) sizes.set(name, size);
    }
    const children = field.selectionSet && isCompositeType(named) ? resolve(selectionSummary(field.selectionSet, named, seen), sizes) : 0;
    const perItem = weight + children;
    const isList = isListType(getNullableType(definition.type));
    const multiplier = isList && !listSize?.sizedFields?.length ? sizeOf(field, definition, listSize) : 1;
    return { perItem, unsized: Math.min(multiplier * perItem, Number.MAX_VALUE) };
  };

  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  return root ? resolve(selectionSummary(operation.selectionSet, root, new Set()), new Map()) : 0;
}
