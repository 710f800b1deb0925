import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { AppError, ErrorCode, badUserInput } from '@firefly/errors';
import { operationCost, type CostDirectives } from './cost.ts';

export interface DocumentLimitSettings {
  /** Nested field levels (fragments and inline fragments add none). */
  maxDepth: number;
  /** Aliased fields, counting a fragment's aliases at every spread (`__typename` aliases are free). */
  maxAliases: number;
  /** Fields at the top of an operation (each one is a subgraph fetch or more). */
  maxRootFields: number;
  /** Fields of an operation once its fragments are expanded (what the planner works on). */
  maxExpandedFields: number;
  /** Lexical tokens of the whole document; the parser stops counting, and reading, at the limit. */
  maxTokens: number;
  /** Static cost of an operation (see cost.ts). */
  maxCost: number;
  /** Size assumed for a list nobody sized (no `first`, no `@listSize(assumedSize:)`). */
  defaultListSize: number;
}

export interface DocumentRequest {
  operationName?: string | null | undefined;
  /**
   * As the client sent it: anything but an object (or null / absent) — a string, a number, an array — is refused
   * with BAD_REQUEST before the cost is computed (see {@link variablesError}).
   */
  variables?: unknown;
}

/**
 * The document limits, one set for every way a document reaches the gateway — HTTP, graphql-ws and persisted
 * operations — each check linear in the document's size, with every fragment measured once however often it is
 * spread. They run before graphql-js's own validation, whose rules are not all linear, so a document over a limit
 * costs only the linear passes.
 */
export interface DocumentLimits {
  readonly settings: DocumentLimitSettings;
  /**
   * Parses under the token limit. Throws BAD_USER_INPUT (an AppError) for too many tokens or a document too deeply
   * nested to parse, and graphql-js's syntax error (GRAPHQL_PARSE_FAILED) for anything else malformed.
   */
  parse(source: string): DocumentNode;
  /**
   * Depth, aliases and root fields (GRAPHQL_VALIDATION_FAILED), then the operation's cost under the request's
   * variables (COST_ESTIMATED_TOO_EXPENSIVE). Empty when the document is within every limit. Needs the schema; an
   * operation that does not exist is left for validation to report.
   */
  check(document: DocumentNode, request?: DocumentRequest): GraphQLError[];
  /** `parse` then `check`: the document, or the errors that refuse it (a syntax error as GRAPHQL_PARSE_FAILED). */
  admit(source: string, request?: DocumentRequest): { document: DocumentNode } | { errors: GraphQLError[] };
  /** Called with every new supergraph: its API schema and `@cost` / `@listSize` directives. */
  setSchema(schema: GraphQLSchema, costDirectives: CostDirectives): void;
}

// graphql-js 16 words it "more that"; both spellings are accepted should it be corrected.
const TOO_MANY_TOKENS = /Document contains more (?:than|that) \d+ tokens/;

/** Documents kept parsed and statically checked, by source text (repeated operations are the common case). */
const CACHE_ENTRIES = 1_000;
/** Longer sources are not cached: a cache of huge one-off documents would only hold memory. */
const CACHE_MAX_SOURCE_LENGTH = 20_000;
/**
 * The cache is bounded by the sources' total length too, because a parsed document costs memory in proportion to
 * it: measured, about 85 bytes of heap per source character (the AST, and through its locations graphql-js's whole
 * token list). By count alone, 1,000 distinct valid documents of 20,000 characters (anyone can send them) would pin
 * about 1.7 GB; 128,000 characters in all pin about 11 MiB and still hold hundreds of ordinary operations.
 */
const CACHE_MAX_TOTAL_SOURCE_LENGTH = 128_000;

/** Costs remembered per operation of a document: one per combination of the variables the cost depends on. */
const COSTS_PER_OPERATION = 16;

/** An operation's cost depends on the document and on the values of the few variables that size lists, if any. */
interface KnownCosts {
  /** The variables the cost was computed from (the same for every computation of one operation). */
  variables: string[];
  /** Cost by the JSON of those variables' values. */
  costs: Map<string, number>;
}

export function createDocumentLimits(settings: DocumentLimitSettings): DocumentLimits {
  let current: { schema: GraphQLSchema; costDirectives: CostDirectives; costs: WeakMap<OperationDefinitionNode, KnownCosts> } | undefined;
  // Parsed documents that passed the static checks (depth, aliases, root fields), least recently used first.
  const admitted = new Map<string, DocumentNode>();
  let admittedLength = 0;
  const forget = (source: string) => {
    if (admitted.delete(source)) admittedLength -= source.length;
  };
  const validationFailed = (message: string) => new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  const rules: ValidationRule[] = [
    // GraphQL Armor's rules measure each fragment once (memoised per document) — checked, not assumed: see the
    // fragment fan-out tests. They report through onReject rather than throwing from inside validation.
    maxDepthRule({
      n: settings.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: true,
      propagateOnRejection: false,
      onReject: [(context) => context?.reportError(validationFailed(`The document is too deep: at most ${settings.maxDepth} levels of fields are allowed`))],
    }),
    maxAliasesRule({
      n: settings.maxAliases,
      propagateOnRejection: false,
      onReject: [(context) => context?.reportError(validationFailed(`The document has too many aliases: at most ${settings.maxAliases} are allowed`))],
    }),
    fieldCountRule(settings.maxRootFields, settings.maxExpandedFields, validationFailed),
  ];

  const limits: DocumentLimits = {
    settings,
    parse(source) {
      try {
        return parse(source, { maxTokens: settings.maxTokens, noLocation: false });
      } catch (error) {
        if (error instanceof GraphQLError && TOO_MANY_TOKENS.test(error.message)) {
          throw badUserInput(`The document is too long: at most ${settings.maxTokens} tokens are allowed`);
        }
        if (error instanceof RangeError) throw badUserInput('The document is nested too deeply to be read');
        throw error;
      }
    },
    check(document, request = {}) {
      const errors = checkStatic(document);
      return errors.length > 0 ? errors : checkCost(document, request);
    },
    admit(source, request) {
      const cached = admitted.get(source);
      if (cached) {
        admitted.delete(source);
        admitted.set(source, cached);
        const errors = checkCost(cached, request ?? {});
        return errors.length > 0 ? { errors } : { document: cached };
      }
      let document: DocumentNode;
      try {
        document = limits.parse(source);
      } catch (error) {
        if (error instanceof AppError) return { errors: [error] };
        // A plain syntax error, answered as Apollo Server answers one.
        if (error instanceof GraphQLError) return { errors: [new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
        throw error;
      }
      const errors = checkStatic(document);
      if (errors.length > 0) return { errors };
      if (current && source.length <= CACHE_MAX_SOURCE_LENGTH) {
        admitted.set(source, document);
        admittedLength += source.length;
        // Least recently used first out, until both bounds hold.
        while (admitted.size > CACHE_ENTRIES || admittedLength > CACHE_MAX_TOTAL_SOURCE_LENGTH) forget(admitted.keys().next().value!);
      }
      const costErrors = checkCost(document, request ?? {});
      return costErrors.length > 0 ? { errors: costErrors } : { document };
    },
    setSchema(schema, costDirectives) {
      current = { schema, costDirectives, costs: new WeakMap() };
      admitted.clear();
      admittedLength = 0;
    },
  };

  function checkStatic(document: DocumentNode): GraphQLError[] {
    if (!current) return [];
    try {
      return [...validate(current.schema, document, rules, { maxErrors: 10 })];
    } catch (error) {
      if (error instanceof RangeError) return [validationFailed('The document is nested too deeply')];
      throw error;
    }
  }

  function checkCost(document: DocumentNode, request: DocumentRequest): GraphQLError[] {
    const badVariables = variablesError(request.variables);
    if (badVariables) return [badVariables];
    if (!current) return [];
    const { schema, costDirectives, costs } = current;
    const operation = operationOf(document, request.operationName);
    if (!operation) return [];
    const variables = (request.variables ?? {}) as Record<string, unknown>;
    // A repeated operation (the same parsed document: the admitted cache hands it out again) costs what it cost
    // before under the same values of the variables that size its lists.
    const known = costs.get(operation);
    const key = known && costKey(known.variables, variables);
    let cost = key === undefined ? undefined : known!.costs.get(key);
    if (cost === undefined) {
      const read = new Set<string>();
      try {
        cost = operationCost(schema, costDirectives, document, operation, variables, settings, (name) => read.add(name));
      } catch (error) {
        if (error instanceof RangeError) return [validationFailed('The document is nested too deeply')];
        throw error;
      }
      const entry = known ?? { variables: [...read], costs: new Map<string, number>() };
      if (!known) costs.set(operation, entry);
      const own = costKey(entry.variables, variables);
      if (own !== undefined && entry.costs.size < COSTS_PER_OPERATION) entry.costs.set(own, cost);
    }
    if (cost <= settings.maxCost) return [];
    return [
      new AppError(ErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, `The operation is estimated too expensive: it costs ${formatCost(cost)}, at most ${settings.maxCost} is allowed`, {
        cost: Number.isFinite(cost) ? cost : null,
        maxCost: settings.maxCost,
      }),
    ];
  }

  return limits;
}

/**
 * `variables` must be a JSON object (or null / absent), on every path: HTTP POST and GET, automatic persisted
 * queries, persisted query lists and graphql-ws. Anything else is the request's fault — BAD_REQUEST, the code and
 * wording Apollo Server gives a POST body's non-object `variables` — never an error of ours.
 */
/** The values of `names` among `variables`, as a key (undefined when one of them cannot be one). */
function costKey(names: readonly string[], variables: Readonly<Record<string, unknown>>): string | undefined {
  if (names.length === 0) return '';
  // An absent variable takes its default, a null one does not: they are told apart.
  const values = names.map((name) => (Object.hasOwn(variables, name) ? variables[name] : 'absent'));
  return values.every((value) => value === null || value === 'absent' || typeof value === 'number') ? JSON.stringify(values) : undefined;
}

function variablesError(variables: unknown): GraphQLError | undefined {
  if (variables === undefined || variables === null) return undefined;
  if (typeof variables === 'object' && !Array.isArray(variables)) return undefined;
  const got = Array.isArray(variables) ? 'an array' : typeof variables === 'string' ? 'a string' : `a ${typeof variables}`;
  return new GraphQLError(`\`variables\` must be an object if provided, not ${got}`, { extensions: { code: 'BAD_REQUEST' } });
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  return getOperationAST(document, operationName ?? undefined) ?? undefined;
}

function formatCost(cost: number): string {
  return Number.isFinite(cost) && cost < 1e15 ? String(Math.ceil(cost)) : 'more than can be counted';
}

/**
 * Root fields (at most `maxRoot` at the top of an operation) and fields once every fragment is expanded (at most
 * `maxExpanded`) — the size the query planner and the executor really work on, which doubles with every fragment
 * spread twice. Both counted through fragments and inline fragments; each fragment is counted once and its counts
 * reused at every spread. GraphQL Armor has neither rule.
 */
function fieldCountRule(maxRoot: number, maxExpanded: number, error: (message: string) => GraphQLError): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const counted = new Map<string, { root: number; expanded: number }>();
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const countFields = (selectionSet: SelectionSetNode, seen: Set<string>): { root: number; expanded: number } => {
      let root = 0;
      let expanded = 0;
      for (const selection of selectionSet.selections) {
        let part: { root: number; expanded: number };
        if (selection.kind === Kind.FIELD) {
          const free = selection.name.value === '__typename';
          part = { root: free ? 0 : 1, expanded: (free ? 0 : 1) + (selection.selectionSet ? countFields(selection.selectionSet, seen).expanded : 0) };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          part = countFields(selection.selectionSet, seen);
        } else {
          part = countFragment(selection.name.value, seen);
        }
        root += part.root;
        expanded += part.expanded;
      }
      return { root, expanded };
    };
    const countFragment = (name: string, seen: Set<string>): { root: number; expanded: number } => {
      const known = counted.get(name);
      if (known) return known;
      const fragment = fragments.get(name);
      if (!fragment || seen.has(name)) return { root: 0, expanded: 0 };
      seen.add(name);
      const count = countFields(fragment.selectionSet, seen);
      seen.delete(name);
      counted.set(name, count);
      return count;
    };
    return {
      OperationDefinition(node) {
        const { root, expanded } = countFields(node.selectionSet, new Set());
        if (root > maxRoot) context.reportError(error(`The operation asks for too many fields at once: at most ${maxRoot} root fields are allowed`));
        else if (expanded > maxExpanded) {
          context.reportError(error(`The operation is too large once its fragments are expanded: at most ${maxExpanded} fields are allowed`));
        }
        return false;
      },
      FragmentDefinition: () => false,
    };
  };
}
