import { createHash } from 'node:crypto';
import { Supergraph, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';

/** The fetch answered from each upstream event instead of the network (docs/architecture.md, "Subscriptions through the gateway"). */
export const EVENT_SERVICE = '__event__';

const PLAN_CACHE_SIZE = 1_000;

/** A planned subscription: what to open on the owning subgraph, and how to resolve each event it sends. */
export interface SubscriptionPlan {
  /** The subgraph that owns the root field. */
  subgraph: string;
  /** The operation sent to that subgraph over graphql-ws (only its own fields, plus the keys `rest` needs). */
  primary: FetchNode;
  /**
   * Per event: `Sequence[primary answered by EVENT_SERVICE, ...rest]` for `executeQueryPlan`, which then fetches
   * the other subgraphs' fields (batched `_entities` per subgraph), applies rewrites and `@include`/`@skip` in the
   * rest, and shapes the result (drops the planner's extra `__typename`/key fields, propagates nulls).
   */
  eventPlan: QueryPlan;
  /** False when every selected field lives in the owning subgraph (no entity fetch per event). */
  hasRest: boolean;
}

/** Thrown for a subscription the planner cannot serve through the gateway; the message is client-safe. */
export class UnsupportedSubscriptionError extends Error {
  override readonly name = 'UnsupportedSubscriptionError';
}

/**
 * Plans subscriptions against one supergraph with `@apollo/query-planner` (the copy `@apollo/gateway` uses, pinned
 * to the same version), with a bounded cache keyed by document hash and operation name. A new supergraph gets a
 * new planner, so cached plans never outlive their schema.
 */
export class SubscriptionPlanner {
  /** The API schema in federation's model, as `executeQueryPlan` wants it. */
  readonly apiSchema: Schema;
  /** The supergraph schema as graphql-js (for `executeQueryPlan`'s rewrites and type conditions). */
  readonly supergraphSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  private readonly cache = new Map<string, SubscriptionPlan>();

  constructor(
    coreSupergraphSdl: string,
    /** The API schema Apollo Server validates against (from `onSchemaLoadOrUpdate`). */
    readonly apiGraphQLSchema: GraphQLSchema,
  ) {
    // The gateway validated this SDL when it loaded it; validating again would only double the boot cost.
    const supergraph = Supergraph.build(coreSupergraphSdl, { validateSupergraph: false });
    this.apiSchema = supergraph.apiSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
  }

  /** `source` is the query text as sent (the cache key); `document` its parsed, validated form. */
  plan(source: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const key = createHash('sha256').update(source).update('\0').update(operationName ?? '').digest('base64url');
    const cached = this.cache.get(key);
    if (cached) {
      // Map iteration order is insertion order: re-inserting makes this the most recently used entry.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const plan = this.build(document, operationName);
    this.cache.set(key, plan);
    if (this.cache.size > PLAN_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return plan;
  }

  private build(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const operation = operationFromDocument(this.apiSchema, document, operationName ? { operationName } : {});
    let queryPlan: QueryPlan;
    try {
      queryPlan = this.planner.buildQueryPlan(operation);
    } catch (error) {
      // The planner turns a root @skip/@include into a Condition node and refuses it (confirmed).
      if (error instanceof Error && /top level PlanNode kind: 'Condition'/.test(error.message)) {
        throw new UnsupportedSubscriptionError('@skip and @include are not supported on the root field of a subscription');
      }
      throw error;
    }
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') throw new Error(`expected a Subscription plan node, got ${node?.kind ?? 'none'}`);
    const eventFetch: FetchNode = { ...node.primary, serviceName: EVENT_SERVICE };
    const rest: PlanNode[] = node.rest ? (node.rest.kind === 'Sequence' ? node.rest.nodes : [node.rest]) : [];
    return {
      subgraph: node.primary.serviceName,
      primary: node.primary,
      eventPlan: { kind: 'QueryPlan', node: rest.length > 0 ? { kind: 'Sequence', nodes: [eventFetch, ...rest] } : eventFetch },
      hasRest: rest.length > 0,
    };
  }
}
