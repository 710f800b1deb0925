/**
 * `probe`: a tiny subgraph whose Subscription field the subscription tests control, composed with the real
 * subgraphs (@firefly/supergraph) so that its events carry a `User` entity resolved by the user and billing
 * subgraphs through the gateway. Built with the same server kit as every subgraph (graphql-ws on /graphql, the
 * gateway credential checked on `connection_init`).
 *
 * `GET /probe/state` reports the live iterators, so a test can watch teardown travel from the client to here.
 */
import { createSubgraphServer, type BaseContext, type SubgraphServer } from '@firefly/server-kit';
import { forbidden, notFound } from '@firefly/errors';
import type { Logger } from '@firefly/logger';

export const PROBE_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@policy"])

  "One tick of probeTicks. Access: any signed-in user."
  type ProbeEvent @authenticated {
    "Position of the tick, from 1."
    seq: Int!
    "The subscription's label argument."
    label: String!
    "Epoch milliseconds when the probe emitted this event."
    emittedAt: Float!
    "The user named by the subscription's userId argument, or the caller."
    user: User
    "Always fails with FORBIDDEN (an error inside an event)."
    secret: String
    "payloadBytes characters of filler."
    filler: String!
  }

  "A user, resolved by the user and billing subgraphs. Access: any signed-in user."
  type User @key(fields: "id", resolvable: false) @authenticated {
    "User id."
    id: ID!
  }

  "The probe's stream."
  type Subscription {
    """
    count events intervalMs apart, then completes; count 0 never emits (idle until completed). refuse: the
    subscription is refused with NOT_FOUND.
    Access: any signed-in user.
    """
    probeTicks(
      "How many events."
      count: Int!
      "Pause between events."
      intervalMs: Int = 20
      "Copied into every event."
      label: String = "tick"
      "Whose User every event carries; the caller when omitted."
      userId: ID
      "Refuse the subscription with NOT_FOUND."
      refuse: Boolean = false
      "Size of each event's filler."
      payloadBytes: Int = 0
    ): ProbeEvent! @authenticated
  }
`;

export interface ProbeState {
  /** Iterators currently open (subscribed and not yet returned or finished). */
  active: number;
  started: number;
  /** Iterators ended by return() (the gateway completed the operation upstream). */
  returned: number;
  /** Identities seen on subscribe, newest last (userId, requestId, roles). */
  subscribers: Array<{ userId: string | null; requestId: string; kind: string }>;
  /** Epoch ms of every return(), newest last. */
  returnedAt: number[];
}

interface ProbeArgs {
  count: number;
  intervalMs: number;
  label: string;
  userId?: string | null;
  refuse: boolean;
  payloadBytes: number;
}

interface ProbeEventSource {
  seq: number;
  label: string;
  emittedAt: number;
  userId: string | null;
  filler: string;
}

export async function buildProbeSubgraph(options: { internalTokenSecret: string; logger: Logger }): Promise<{ server: SubgraphServer; state: ProbeState }> {
  const state: ProbeState = { active: 0, started: 0, returned: 0, subscribers: [], returnedAt: [] };

  /** A hand-written iterator: return() acts at once, also while waiting for the next tick. */
  function ticks(args: ProbeArgs, context: BaseContext): AsyncIterableIterator<ProbeEventSource> {
    const identity = context.identity;
    state.active++;
    state.started++;
    state.subscribers.push({ userId: identity.kind === 'user' ? identity.userId : null, requestId: identity.requestId, kind: identity.kind });
    let seq = 0;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let wake: ((result: IteratorResult<ProbeEventSource>) => void) | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      state.active--;
      clearTimeout(timer);
      wake?.({ value: undefined, done: true });
    };
    const filler = 'x'.repeat(Math.max(0, Math.min(args.payloadBytes, 1_000_000)));
    const iterator: AsyncIterableIterator<ProbeEventSource> = {
      [Symbol.asyncIterator]: () => iterator,
      next() {
        if (finished || (args.count > 0 && seq >= args.count)) {
          finish();
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          wake = resolve;
          if (args.count === 0) return;
          timer = setTimeout(() => {
            wake = undefined;
            seq++;
            resolve({
              value: { seq, label: args.label, emittedAt: Date.now(), userId: args.userId ?? (identity.kind === 'user' ? identity.userId : null), filler },
              done: false,
            });
          }, Math.max(0, args.intervalMs));
        });
      },
      return() {
        if (!finished) {
          state.returned++;
          state.returnedAt.push(Date.now());
        }
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
    return iterator;
  }

  const server = await createSubgraphServer<BaseContext>({
    name: 'probe',
    typeDefs: PROBE_SDL,
    internalTokenSecret: options.internalTokenSecret,
    logger: options.logger,
    environment: { NODE_ENV: 'test' },
    createContext: (base) => base,
    resolvers: {
      Subscription: {
        probeTicks: {
          subscribe: (_parent: unknown, args: ProbeArgs, context: BaseContext) => {
            if (args.refuse) throw notFound('Probe stream');
            return ticks(args, context);
          },
          resolve: (event: ProbeEventSource) => event,
        },
      },
      ProbeEvent: {
        user: (event: ProbeEventSource) => (event.userId ? { __typename: 'User', id: event.userId } : null),
        secret: () => {
          throw forbidden('The probe keeps its secret');
        },
      },
    } as never,
    configureApp: (app) => {
      app.get('/probe/state', (_req, res) => {
        res.json(state);
      });
    },
  });
  return { server, state };
}
