import { describe, expect, it } from 'vitest';
import { Supergraph } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { SubscriptionPlanner, UnsupportedSubscriptionError } from '../planner.ts';
import { composeToySupergraph } from './toy-supergraph.ts';

const sdl = composeToySupergraph();
const planner = new SubscriptionPlanner(sdl, Supergraph.build(sdl).apiSchema().toGraphQLJSSchema());
const plan = (query: string, operationName?: string) => planner.plan(query, parse(query), operationName);

describe('SubscriptionPlanner', () => {
  it('sends only the owning subgraph\'s fields (plus entity keys) upstream and resolves the rest per event', () => {
    const crossing = plan('subscription { ticks(from: 1) { n user { name } } }');
    expect(crossing.subgraph).toBe('stream');
    expect(crossing.primary.operation).toBe('subscription{ticks(from:1){n user{__typename id}}}');
    expect(crossing.hasRest).toBe(true);
    // The event fetch stands in for the primary at the head of the sequence.
    expect(crossing.eventPlan.node).toMatchObject({ kind: 'Sequence', nodes: [{ kind: 'Fetch', serviceName: '__event__' }, { kind: 'Flatten', path: ['ticks', 'user'] }] });

    const local = plan('subscription { ticks { n } }');
    expect(local.hasRest).toBe(false);
    expect(local.eventPlan.node).toMatchObject({ kind: 'Fetch', serviceName: '__event__' });
  });

  it('caches plans per document and operation name', () => {
    const query = 'subscription A { ticks { n } } subscription B { ticks { note } }';
    expect(plan(query, 'A')).toBe(plan(query, 'A'));
    expect(plan(query, 'A')).not.toBe(plan(query, 'B'));
    expect(plan(query, 'B').primary.operation).toContain('note');
  });

  it('refuses @include/@skip on the root field with a client-safe error', () => {
    expect(() => plan('subscription S($on: Boolean!) { ticks @include(if: $on) { n } }')).toThrow(UnsupportedSubscriptionError);
  });
});
