import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { AppError, badUserInput, internalError } from '@firefly/errors';
import { buildOperationContext } from '../apollo-gateway.ts';
import type { Logger } from '@firefly/logger';
import type { DocumentLimits } from '../modules/limits/index.ts';
import { onlySubscriptions, withCode } from './errors.ts';
import { UnsupportedSubscriptionError, type SubscriptionPlan, type SubscriptionPlanner } from './planner.ts';

export interface SubscribeRequest {
  query: string;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}

export type Admission =
  | {
      kind: 'admitted';
      source: string;
      document: DocumentNode;
      operationName: string | undefined;
      /** The operation's own name, for logs (whether or not the client sent operationName). */
      displayName: string | undefined;
      /** Coerced variable values (defaults applied), as the subgraph fetches use them. */
      variables: Record<string, unknown>;
      /** Root field name. */
      field: string;
      plan: SubscriptionPlan;
      operationContext: ReturnType<typeof buildOperationContext>;
    }
  | { kind: 'refused'; errors: GraphQLError[] };

/**
 * What the HTTP path does before executing, redone for graphql-ws (whose messages bypass every Apollo Server
 * plugin; docs/architecture.md, "Subscriptions through the gateway"): parse, refuse non-subscriptions, validate against the API schema with
 * the gateway's own rules (depth limit), coerce variables like `ApolloGateway.validateIncomingRequest`, then plan.
 * Errors carry the codes the HTTP path gives them.
 */
export function admitSubscription(
  request: SubscribeRequest,
  planner: SubscriptionPlanner,
  limits: DocumentLimits,
  logger: Logger,
): Admission {
  const refused = (...errors: GraphQLError[]): Admission => ({ kind: 'refused', errors });
  // Parsed and checked against the same limits as HTTP (before graphql-js's own rules, which are not all linear),
  // through the limits' document cache: a client subscribing to each new answer sends the same text every time.
  let limited: ReturnType<DocumentLimits['admit']>;
  try {
    limited = limits.admit(request.query, request);
  } catch {
    return refused(badUserInput('The query could not be parsed'));
  }
  if ('errors' in limited) return refused(...limited.errors.map((error) => (error instanceof AppError || error.extensions?.code ? error : withCode(error, 'GRAPHQL_PARSE_FAILED'))));
  const document = limited.document;
  const operationName = request.operationName ?? undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return refused(badUserInput(operationName ? `Unknown operation named "${operationName}"` : 'The document must contain exactly one operation, or name one'));
  }
  if (operation.operation !== 'subscription') return refused(onlySubscriptions());
  // Checked before validation: graphql-js 16's SingleFieldSubscriptionsRule throws (rather than reports) on a
  // variable in a root @include/@skip, and the planner cannot serve one anyway (a Condition at the top).
  if (operation.selectionSet.selections.some((selection) => selection.directives?.some((d) => d.name.value === 'include' || d.name.value === 'skip'))) {
    return refused(badUserInput('@skip and @include are not supported on the root field of a subscription'));
  }

  const schema = planner.apiGraphQLSchema;
  const validationErrors = validateOnce(schema, document);
  if (validationErrors.length > 0) return refused(...validationErrors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));

  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
  if (coerced.errors) return refused(...coerced.errors.map((error) => withCode(error, 'BAD_USER_INPUT')));

  let plan: SubscriptionPlan;
  try {
    plan = planner.plan(request.query, document, operationName);
  } catch (error) {
    if (error instanceof UnsupportedSubscriptionError) return refused(badUserInput(error.message));
    logger.error({ err: error }, 'planning a subscription failed');
    return refused(internalError());
  }
  return {
    kind: 'admitted',
    source: request.query,
    document,
    operationName,
    displayName: operation.name?.value,
    variables: coerced.coerced,
    field: rootFieldName(operation),
    plan,
    operationContext: buildOperationContext({ schema, operationDocument: document, ...(operationName ? { operationName } : {}) }),
  };
}

/**
 * graphql-js validation of a document against an API schema, once per document object and schema: the limits' cache
 * hands out one document per query text, and a new supergraph brings a new schema (so nothing outlives its schema).
 */
const validated = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();

function validateOnce(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
  let bySchema = validated.get(schema);
  if (!bySchema) validated.set(schema, (bySchema = new WeakMap()));
  let errors = bySchema.get(document);
  if (!errors) {
    try {
      errors = validate(schema, document, specifiedRules);
    } catch (error) {
      errors = [error instanceof GraphQLError ? error : new GraphQLError('The document could not be validated')];
    }
    bySchema.set(document, errors);
  }
  return errors;
}

/** Validation (SingleFieldSubscriptionsRule) guarantees exactly one root field, possibly inside fragments. */
function rootFieldName(operation: OperationDefinitionNode): string {
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) return selection.name.value;
  }
  return 'subscription';
}
