import { describe, expect, it, vi } from 'vitest';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { ExecutionResult } from 'graphql';
import { Registry } from 'prom-client';
import { createLogger } from '@firefly/logger';
import { createDocumentLimits, readCostDirectives } from '../../modules/limits/index.ts';
import { admitSubscription } from '../admission.ts';
import type { EndReason } from '../end-reason.ts';
import { upstreamGone } from '../errors.ts';
import { FederatedSubscription } from '../federated-subscription.ts';
import { InFlightFetches } from '../in-flight-fetches.ts';
import { createSubscriptionMetrics } from '../metrics.ts';
import { SubscriptionPlanner } from '../planner.ts';
import type { UpstreamConnections, UpstreamSink } from '../upstream.ts';
import { composeToySupergraph } from './toy-supergraph.ts';

const sdl = composeToySupergraph();
const planner = new SubscriptionPlanner(sdl, Supergraph.build(sdl).apiSchema().toGraphQLJSSchema());
const logger = createLogger({ service: 'test', level: 'silent' });

// The gateway's document limits at their defaults, over this toy supergraph.
const limits = createDocumentLimits({ maxDepth: 15, maxAliases: 30, maxRootFields: 20, maxExpandedFields: 2_000, maxTokens: 10_000, maxCost: 5_000, defaultListSize: 20 });
limits.setSchema(planner.apiGraphQLSchema, readCostDirectives(sdl));

/** Stands in for the upstream graphql-ws leg: the test pushes events through `sink`. */
class FakeUpstream {
  sink!: UpstreamSink;
  payload: unknown;
  unsubscribed = 0;
  subscribe(_subgraph: string, payload: unknown, sink: UpstreamSink): () => void {
    this.payload = payload;
    this.sink = sink;
    return () => void this.unsubscribed++;
  }
}

function start(query: string, options: { variables?: Record<string, unknown>; maxQueuedEvents?: number; latestState?: boolean; users?: GraphQLDataSource; fetches?: InFlightFetches } = {}) {
  const admission = admitSubscription({ query, variables: options.variables ?? null }, planner, limits, logger);
  if (admission.kind !== 'admitted') throw new Error(JSON.stringify(admission.errors));
  const upstream = new FakeUpstream();
  const ended: EndReason[] = [];
  const entityFetches: unknown[] = [];
  const users: GraphQLDataSource = options.users ?? {
    async process({ request }) {
      entityFetches.push(request.variables);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const representations = (request.variables?.['representations'] ?? []) as Array<{ id: string }>;
      return { data: { _entities: representations.map((r) => ({ __typename: 'User', name: `user ${r.id}` })) } };
    },
  };
  const subscription = new FederatedSubscription({
    id: '1',
    field: admission.field,
    source: admission.source,
    operationName: admission.operationName,
    displayName: admission.displayName,
    variables: admission.variables,
    plan: admission.plan,
    planner,
    operationContext: admission.operationContext,
    dataSources: new Map([['users', users]]),
    ...(options.fetches ? { fetches: options.fetches } : {}),
    upstream: upstream as unknown as UpstreamConnections,
    context: { identity: { kind: 'anonymous', tenantId: 'default', requestId: 'r' }, requestId: 'r', logger, credential: async () => 'credential', operation: { transport: 'ws', requestId: 'r', startedAt: 0, errorCodes: [] } },
    maxQueuedEvents: options.maxQueuedEvents ?? 100,
    latestState: options.latestState ?? false,
    metrics: createSubscriptionMetrics(new Registry()),
    logger,
    onEnded: (_s, reason) => ended.push(reason),
    returnReason: () => 'client_complete',
  });
  return { subscription, upstream, ended, entityFetches };
}

const tick = (n: number, userId = `u${n}`): ExecutionResult => ({ data: { ticks: { n, user: { __typename: 'User', id: userId } } } });

describe('FederatedSubscription', () => {
  it('opens only the primary upstream, with only the variables it uses', () => {
    const { upstream } = start('subscription S($from: Int) { ticks(from: $from) { n } }', { variables: { from: 3, stray: 4 } });
    expect(upstream.payload).toEqual({ query: 'subscription S__stream__0($from:Int){ticks(from:$from){n}}', operationName: 'S__stream__0', variables: { from: 3 } });
  });

  it('resolves each event with the other subgraphs\' fields and the client\'s shape', async () => {
    const { subscription, upstream, entityFetches } = start('subscription { ticks { count: n user { name } } }');
    // The primary operation keeps the client's aliases: events arrive keyed by response name.
    upstream.sink.next({ data: { ticks: { count: 1, user: { __typename: 'User', id: 'u1' } } } });
    upstream.sink.next({ data: { ticks: { count: 2, user: { __typename: 'User', id: 'u2' } } } });
    expect(await subscription.next()).toEqual({ value: { data: { ticks: { count: 1, user: { name: 'user u1' } } } }, done: false });
    expect(await subscription.next()).toEqual({ value: { data: { ticks: { count: 2, user: { name: 'user u2' } } } }, done: false });
    expect(entityFetches).toEqual([{ representations: [{ __typename: 'User', id: 'u1' }] }, { representations: [{ __typename: 'User', id: 'u2' }] }]);
    upstream.sink.complete();
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('return() releases a waiting next() and completes the upstream operation at once', async () => {
    const { subscription, upstream, ended } = start('subscription { ticks { n } }');
    const waiting = subscription.next();
    await subscription.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(upstream.unsubscribed).toBeGreaterThanOrEqual(1);
    expect(ended).toEqual(['client_complete']);
    // Late upstream events are ignored.
    upstream.sink.next(tick(9));
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('passes value-completion problems through in extensions, as for queries', async () => {
    const { subscription, upstream } = start('subscription { ticks { n } }');
    upstream.sink.next({ data: { ticks: { n: null } } } as never);
    const result = (await subscription.next()).value!;
    expect(result.data).toBeNull();
    expect(result.extensions?.['valueCompletion']).toEqual([expect.objectContaining({ message: expect.stringMatching(/non-nullable|null/i) })]);
  });

  it('names the real subgraph on errors of the primary event', async () => {
    const { subscription, upstream } = start('subscription { ticks { n note } }');
    upstream.sink.next({ data: { ticks: { n: 1, note: null } }, errors: [{ message: 'nope', path: ['ticks', 'note'], extensions: { code: 'FORBIDDEN' } }] } as never);
    const result = (await subscription.next()).value!;
    expect(result.data).toEqual({ ticks: { n: 1, note: null } });
    expect(result.errors?.[0]).toMatchObject({ message: 'nope', path: ['ticks', 'note'], extensions: { code: 'FORBIDDEN', serviceName: 'stream' } });
  });

  it('ends a slow consumer past its queue bound: queued events first, then RATE_LIMITED, upstream completed', async () => {
    const { subscription, upstream, ended } = start('subscription { ticks { n } }', { maxQueuedEvents: 2 });
    upstream.sink.next(tick(1));
    upstream.sink.next(tick(2));
    upstream.sink.next(tick(3));
    expect(ended).toEqual(['slow_consumer']);
    expect(upstream.unsubscribed).toBe(1);
    expect((await subscription.next()).value).toEqual({ data: { ticks: { n: 1 } } });
    expect((await subscription.next()).value).toEqual({ data: { ticks: { n: 2 } } });
    await expect(subscription.next()).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', reason: 'SLOW_CONSUMER' } });
  });

  it('ends with UPSTREAM_UNAVAILABLE when the upstream leg fails', async () => {
    const { subscription, upstream, ended } = start('subscription { ticks { n } }');
    const waiting = subscription.next();
    upstream.sink.error(upstreamGone('stream'), 'upstream_unavailable');
    await expect(waiting).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'stream' } });
    expect(ended).toEqual(['upstream_unavailable']);
  });

  it('whole-state fields: events queued behind a slow one are superseded by the newest, which always goes out', async () => {
    const { subscription, upstream, entityFetches } = start('subscription { ticks { n user { name } } }', { latestState: true });
    const first = subscription.next();
    upstream.sink.next(tick(1));
    // While the first event's entity fetch runs, three more arrive: only the newest is still worth sending.
    upstream.sink.next(tick(2));
    upstream.sink.next(tick(3));
    upstream.sink.next(tick(4));
    upstream.sink.complete();
    expect((await first).value).toEqual({ data: { ticks: { n: 1, user: { name: 'user u1' } } } });
    expect((await subscription.next()).value).toEqual({ data: { ticks: { n: 4, user: { name: 'user u4' } } } });
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
    // The dropped events cost no entity fetch.
    expect(entityFetches).toEqual([{ representations: [{ __typename: 'User', id: 'u1' }] }, { representations: [{ __typename: 'User', id: 'u4' }] }]);
  });

  it('whole-state fields never drop an event with errors, and keep the order around it', async () => {
    const { subscription, upstream } = start('subscription { ticks { n note } }', { latestState: true });
    const first = subscription.next();
    upstream.sink.next({ data: { ticks: { n: 1, note: null } } });
    upstream.sink.next({ data: { ticks: { n: 2, note: null } } });
    upstream.sink.next({ data: { ticks: { n: 3, note: null } }, errors: [{ message: 'nope', path: ['ticks', 'note'], extensions: { code: 'FORBIDDEN' } }] } as never);
    upstream.sink.next({ data: { ticks: { n: 4, note: null } } });
    upstream.sink.next({ data: { ticks: { n: 5, note: null } } });
    upstream.sink.complete();
    const seen: unknown[] = [(await first).value!.data];
    for (let item = await subscription.next(); !item.done; item = await subscription.next()) seen.push(item.value.data);
    expect(seen).toEqual([{ ticks: { n: 1, note: null } }, { ticks: { n: 2, note: null } }, { ticks: { n: 3, note: null } }, { ticks: { n: 5, note: null } }]);
  });

  it('other fields (token streams) keep every event', async () => {
    const { subscription, upstream } = start('subscription { ticks { n } }');
    for (let n = 1; n <= 5; n++) upstream.sink.next(tick(n));
    upstream.sink.complete();
    const seen: unknown[] = [];
    for (let item = await subscription.next(); !item.done; item = await subscription.next()) seen.push(item.value.data);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => ({ ticks: { n } })));
  });

  describe('identical entity fetches of one connection (one user)', () => {
    /** The users subgraph, answering only when the test opens the gate, so fetches overlap for certain. */
    function gatedUsers() {
      const requests: unknown[] = [];
      let open!: () => void;
      let gate = new Promise<void>((resolve) => (open = resolve));
      const source: GraphQLDataSource = {
        async process({ request }) {
          requests.push(request.variables);
          await gate;
          const representations = (request.variables?.['representations'] ?? []) as Array<{ id: string }>;
          return { data: { _entities: representations.map((r) => ({ __typename: 'User', name: `user ${r.id}`, id: r.id })) } };
        },
      };
      return {
        source,
        requests,
        open: () => {
          open();
          gate = new Promise<void>((resolve) => (open = resolve));
        },
      };
    }
    const QUERY = 'subscription { ticks { n user { name } } }';

    it('two subscriptions asking for the same entity at once: one subgraph request, each event its own answer; nothing kept after', async () => {
      const users = gatedUsers();
      const merged: string[] = [];
      const fetches = new InFlightFetches((subgraph) => merged.push(subgraph));
      const a = start(QUERY, { users: users.source, fetches });
      const b = start(QUERY, { users: users.source, fetches });
      a.upstream.sink.next(tick(1, 'u7'));
      b.upstream.sink.next(tick(2, 'u7'));
      const [eventA, eventB] = [a.subscription.next(), b.subscription.next()];
      await vi.waitFor(() => expect(merged).toEqual(['users']));
      users.open();
      expect((await eventA).value).toEqual({ data: { ticks: { n: 1, user: { name: 'user u7' } } } });
      expect((await eventB).value).toEqual({ data: { ticks: { n: 2, user: { name: 'user u7' } } } });
      expect(users.requests).toEqual([{ representations: [{ __typename: 'User', id: 'u7' }] }]);
      expect(fetches.size).toBe(0);

      // No caching: the next event fetches again.
      a.upstream.sink.next(tick(3, 'u7'));
      const next = a.subscription.next();
      await vi.waitFor(() => expect(users.requests).toHaveLength(2));
      users.open();
      expect((await next).value).toEqual({ data: { ticks: { n: 3, user: { name: 'user u7' } } } });
    });

    it('different entities, or another connection (another user): separate requests', async () => {
      const users = gatedUsers();
      const fetches = new InFlightFetches();
      const a = start(QUERY, { users: users.source, fetches });
      const b = start(QUERY, { users: users.source, fetches });
      // The same entity on another connection: never shared, even when the query and variables are identical.
      const other = start(QUERY, { users: users.source, fetches: new InFlightFetches() });
      a.upstream.sink.next(tick(1, 'u1'));
      b.upstream.sink.next(tick(2, 'u2'));
      other.upstream.sink.next(tick(3, 'u1'));
      const events = [a.subscription.next(), b.subscription.next(), other.subscription.next()];
      await vi.waitFor(() => expect(users.requests).toHaveLength(3));
      users.open();
      expect((await Promise.all(events)).map((e) => e.value)).toEqual([
        { data: { ticks: { n: 1, user: { name: 'user u1' } } } },
        { data: { ticks: { n: 2, user: { name: 'user u2' } } } },
        { data: { ticks: { n: 3, user: { name: 'user u1' } } } },
      ]);
    });

    it('a failed fetch fails every event that joined it, as UPSTREAM_UNAVAILABLE would for each', async () => {
      let calls = 0;
      let fail!: () => void;
      const failing = new Promise<void>((resolve) => (fail = resolve));
      const source: GraphQLDataSource = {
        async process() {
          calls++;
          await failing;
          throw Object.assign(new Error('The users service is unavailable'), { extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
        },
      };
      const fetches = new InFlightFetches();
      const a = start(QUERY, { users: source, fetches });
      const b = start(QUERY, { users: source, fetches });
      a.upstream.sink.next(tick(1, 'u7'));
      b.upstream.sink.next(tick(2, 'u7'));
      const events = [a.subscription.next(), b.subscription.next()];
      await vi.waitFor(() => expect(calls).toBe(1));
      fail();
      for (const event of await Promise.all(events)) {
        expect(event.value?.data).toEqual({ ticks: { n: expect.any(Number), user: null } });
        expect(event.value?.errors?.[0]?.message).toMatch(/unavailable/);
      }
      expect(calls).toBe(1);
      expect(fetches.size).toBe(0);
    });
  });
});
