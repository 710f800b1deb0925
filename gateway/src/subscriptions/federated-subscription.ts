import { performance } from 'node:perf_hooks';
import type { buildOperationContext, GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { internalError } from '@firefly/errors';
import { executeQueryPlan } from '../apollo-gateway.ts';
import type { Logger } from '@firefly/logger';
import type { GatewayContext } from '../context.ts';
import type { EndReason } from './end-reason.ts';
import { slowConsumer } from './errors.ts';
import { EventQueue } from './event-queue.ts';
import type { InFlightFetches } from './in-flight-fetches.ts';
import type { SubscriptionMetrics } from './metrics.ts';
import { EVENT_SERVICE, type SubscriptionPlan, type SubscriptionPlanner } from './planner.ts';
import type { UpstreamConnections } from './upstream.ts';

type OperationContext = ReturnType<typeof buildOperationContext>;

export interface FederatedSubscriptionOptions {
  /** The graphql-ws operation id the client chose (for logs). */
  id: string;
  /** Root field name, e.g. `messageStream` (metrics label, logs). */
  field: string;
  source: string;
  operationName: string | undefined;
  /** The operation's own name (logs). */
  displayName: string | undefined;
  /** Coerced variable values. */
  variables: Record<string, unknown>;
  plan: SubscriptionPlan;
  planner: SubscriptionPlanner;
  operationContext: OperationContext;
  /** The real subgraph data sources (the same the query path uses: gateway credential, timeouts, error mapping). */
  dataSources: ReadonlyMap<string, GraphQLDataSource>;
  /** The connection's in-flight entity fetches: identical ones of its subscriptions' events are merged (one user). */
  fetches?: InFlightFetches;
  upstream: UpstreamConnections;
  /** Context handed to the data sources for the per-event entity fetches. */
  context: GatewayContext;
  maxQueuedEvents: number;
  /**
   * Every event of this field is the whole current state of one thing (imageJobUpdated: the job), so an event still
   * queued when a newer one arrives is dropped for it (SUBSCRIPTION_LATEST_STATE_FIELDS). Events with errors are
   * never dropped, and the last event always goes out.
   */
  latestState: boolean;
  metrics: SubscriptionMetrics;
  logger: Logger;
  /** Called once, when the subscription has ended for whatever reason. */
  onEnded: (subscription: FederatedSubscription, reason: EndReason) => void;
  /** Why a `return()` happened when nobody said otherwise: the client's `complete` or its socket closing. */
  returnReason: () => EndReason;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/** An upstream event waiting for its turn, and when it arrived (performance.now()). */
interface QueuedEvent {
  result: ExecutionResult;
  receivedAt: number;
}

/**
 * One client subscription through the gateway: the primary fetch runs on the owning subgraph over graphql-ws;
 * every event it sends is resolved into the client's full result by `executeQueryPlan`, with the plan's first
 * fetch answered from the event instead of the network (docs/architecture.md, "Subscriptions through the gateway").
 *
 * An explicit iterator rather than an `async function*`: graphql-ws calls `return()` on client `complete` or socket
 * close, and that must complete the upstream operation at once, also while `next()` is waiting for an event that
 * may never come. Events are pulled one at a time, so they stay in order, and the upstream sink never waits:
 * the bounded queue between them absorbs bursts and a slow client; past its limit the subscription ends with a
 * slow-consumer error rather than silently dropping a token.
 */
export class FederatedSubscription implements AsyncIterableIterator<ExecutionResult> {
  readonly startedAt = Date.now();
  private readonly queue: EventQueue<QueuedEvent>;
  private readonly stopUpstream: () => void;
  private readonly serviceMap: ServiceMap;
  private current: ExecutionResult | undefined;
  private endReason: EndReason | null = null;
  /** end() was called: nothing more goes to the client. */
  private closed = false;
  private finished = false;
  private events = 0;

  constructor(private readonly options: FederatedSubscriptionOptions) {
    this.queue = new EventQueue(options.maxQueuedEvents);
    const eventSource: GraphQLDataSource = {
      // Sequential per subscription (next() awaits each event's execution), so one slot is enough. No clone
      // needed: every event is a fresh JSON.parse of its own upstream message, used by this subscription only.
      process: async (): Promise<GatewayGraphQLResponse> => {
        const event = this.current;
        return { ...(event?.data !== undefined ? { data: event.data as Record<string, unknown> | null } : {}), ...(event?.errors ? { errors: event.errors } : {}) };
      },
    };
    this.serviceMap = Object.assign(Object.create(null) as ServiceMap, Object.fromEntries(options.fetches ? options.fetches.wrap(options.dataSources) : options.dataSources), { [EVENT_SERVICE]: eventSource });

    const { primary } = options.plan;
    const variables = Object.fromEntries((primary.variableUsages ?? []).filter((name) => name in options.variables).map((name) => [name, options.variables[name]]));
    this.stopUpstream = options.upstream.subscribe(
      options.plan.subgraph,
      { query: primary.operation, ...(primary.operationName ? { operationName: primary.operationName } : {}), variables },
      {
        next: (result) => {
          const event: QueuedEvent = { result, receivedAt: performance.now() };
          if (options.latestState && !(result.errors && result.errors.length > 0)) {
            const outcome = this.queue.pushLatest(event);
            if (outcome === 'replaced') options.metrics.eventSuperseded(options.field);
            else if (outcome === 'refused') this.fail(slowConsumer(options.maxQueuedEvents), 'slow_consumer');
          } else if (!this.queue.push(event)) this.fail(slowConsumer(options.maxQueuedEvents), 'slow_consumer');
        },
        error: (error, reason) => this.fail(error, reason),
        complete: () => {
          this.endReason ??= 'upstream_complete';
          this.queue.end();
        },
      },
    );
    options.metrics.subscriptionStarted(options.field);
    options.logger.info(
      { subscriptionId: options.id, field: options.field, subgraph: options.plan.subgraph, operationName: options.displayName, entityFetches: options.plan.hasRest },
      'subscription started',
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    let item: IteratorResult<QueuedEvent, undefined>;
    try {
      item = await this.queue.next();
    } catch (error) {
      // fail() has already finished the subscription; the error goes to the client now.
      this.finish(this.endReason ?? 'internal_error');
      throw error;
    }
    if (item.done) {
      this.finish(this.endReason ?? 'upstream_complete');
      return DONE;
    }
    const started = performance.now();
    let result: ExecutionResult;
    try {
      result = await this.resolveEvent(item.value.result);
    } catch (error) {
      // executeQueryPlan turns fetch failures into errors in the result; a throw here is a bug on our side.
      this.options.logger.error({ err: error, subscriptionId: this.options.id }, 'resolving a subscription event failed');
      this.endReason ??= 'internal_error';
      this.queue.close();
      this.finish(this.endReason);
      throw internalError();
    }
    // end() may have come while the entity fetches ran (client gone, shutdown): send nothing more.
    if (this.closed) return DONE;
    this.events++;
    const now = performance.now();
    this.options.metrics.eventSent(this.options.field, (now - started) / 1000, (now - item.value.receivedAt) / 1000);
    return { value: result, done: false };
  }

  /** graphql-ws: the client sent `complete`, or its socket closed. */
  async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.end(this.options.returnReason());
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.options.logger.debug({ err: error, subscriptionId: this.options.id }, 'subscription iterator was thrown into');
    this.end('internal_error');
    return DONE;
  }

  /**
   * Ends the subscription now: completes the upstream operation, drops queued events, and lets a pending `next()`
   * resolve `done` (so graphql-ws sends `complete` if the client is still there).
   */
  end(reason: EndReason): void {
    this.endReason ??= reason;
    this.closed = true;
    this.stopUpstream();
    this.queue.close();
    this.finish(this.endReason);
  }

  /**
   * The upstream side is over with an error: queued events still go to the client, then `error`. Ended (logged,
   * counted, upstream completed) now rather than when a slow or stalled client gets round to reading it.
   */
  private fail(error: Error, reason: EndReason): void {
    this.endReason ??= reason;
    const queued = this.queue.size;
    this.queue.fail(error);
    this.finish(this.endReason, queued);
  }

  /** Once: completes the upstream operation, and logs and counts the end. Leaves the queue to its owner. */
  private finish(reason: EndReason, queued = 0): void {
    if (this.finished) return;
    this.finished = true;
    this.stopUpstream();
    this.options.metrics.subscriptionEnded(this.options.field, reason);
    const level = reason === 'internal_error' ? 'error' : reason === 'upstream_unavailable' || reason === 'slow_consumer' ? 'warn' : 'info';
    this.options.logger[level](
      { subscriptionId: this.options.id, field: this.options.field, reason, events: this.events, ...(queued > 0 ? { queued } : {}), durationMs: Date.now() - this.startedAt },
      'subscription ended',
    );
    this.options.onEnded(this, reason);
  }

  private async resolveEvent(event: ExecutionResult): Promise<ExecutionResult> {
    const { plan, planner, operationContext, context, source, operationName, variables, logger } = this.options;
    this.current = event;
    try {
      const requestContext = {
        request: { query: source, variables, ...(operationName ? { operationName } : {}) },
        context,
        logger,
        // executeQueryPlan records error paths here; a fresh object per event keeps it from growing.
        metrics: {},
        operationName: operationName ?? null,
      } as unknown as GatewayGraphQLRequestContext<GatewayContext>;
      const result = await executeQueryPlan(plan.eventPlan, this.serviceMap, requestContext, operationContext, planner.supergraphSchema, planner.apiSchema);
      const errors = result.errors?.map((error) => nameEventService(error as GraphQLError, plan.subgraph));
      // `extensions.valueCompletion` (nulls the upstream data broke) passes through as it does for queries.
      return { data: result.data ?? null, ...(errors && errors.length > 0 ? { errors } : {}), ...(result.extensions ? { extensions: result.extensions } : {}) } as ExecutionResult;
    } finally {
      this.current = undefined;
    }
  }
}

/** Errors of the primary fetch name our stand-in service; clients and logs should see the real subgraph. */
function nameEventService(error: GraphQLError, subgraph: string): GraphQLError {
  const extensions = error.extensions as Record<string, unknown> | undefined;
  if (extensions?.['serviceName'] === EVENT_SERVICE) extensions['serviceName'] = subgraph;
  return error;
}
