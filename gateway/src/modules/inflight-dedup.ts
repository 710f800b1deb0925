import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Counter, type Registry } from 'prom-client';
import type { Identity } from '@firefly/auth';
import { copyJson } from './entity-dedup.ts';
import type { GatewayModule, SubgraphCall } from './module.ts';

/**
 * Merges identical anonymous subgraph queries that are in flight at the same moment into one upstream call (what
 * Hive Gateway's upstream request dedup does, limited to where it is safe).
 *
 * A fetch joins a running one only when both are queries (never mutations) of one client operation each, to the
 * same subgraph, with the same query text and variables, and both callers are anonymous with the same identity
 * claims: everything the signed credential tells the subgraph except the request id and the displayed-only
 * User-Agent — tenant, client IP (subgraphs rate-limit anonymous callers per IP) and partner key included, so a
 * subgraph answers the merged call exactly as it would have answered each. Signed-in users and services are never
 * merged, not even with themselves: their traffic is per identity, which is what the bench's per-user figures
 * measure. Every caller gets its own deep copy of the answer (the gateway merges into what it receives); a failed
 * call (UPSTREAM_UNAVAILABLE) fails every caller that joined it. The merged call carries the first caller's
 * credential, request id and deadline; a caller that joined later has a later or equal deadline of its own.
 *
 * In front of this, the response cache answers repeated public queries from Redis; this covers the moments it
 * cannot: a cache miss hit by many at once, and anonymous queries it does not cache.
 *
 * `gateway_subgraph_calls_merged_total{subgraph}` (on `/metrics` when given the gateway's registry) counts the calls
 * that joined a running one instead of going upstream: each is one subgraph request saved.
 */
export function useInflightDedup(options: { registry?: Registry } = {}): GatewayModule {
  const inflight = new Map<string, Flight>();
  const merged = new Counter({
    name: 'gateway_subgraph_calls_merged_total',
    help: 'Subgraph calls that joined an identical anonymous query already in flight instead of going upstream, by subgraph',
    labelNames: ['subgraph'] as const,
    registers: options.registry ? [options.registry] : [],
  });
  return {
    name: 'inflight-dedup',
    subgraphCall: (subgraph, next) => {
      const joined = merged.labels({ subgraph });
      joined.inc(0);
      return mergeInflight(subgraph, next, inflight, () => joined.inc());
    },
  };
}

interface Flight {
  readonly answer: Promise<GatewayGraphQLResponse>;
  joined: number;
}

function mergeInflight(subgraph: string, next: SubgraphCall, inflight: Map<string, Flight>, onJoin: () => void): SubgraphCall {
  return async (options) => {
    const key = keyOf(subgraph, options);
    if (key === undefined) return next(options);

    const running = inflight.get(key);
    if (running) {
      running.joined++;
      onJoin();
      return copyJson(await running.answer) as GatewayGraphQLResponse;
    }
    const flight: Flight = { answer: next(options), joined: 0 };
    inflight.set(key, flight);
    try {
      const response = await flight.answer;
      // Joined callers copy the answer as it arrived; the first caller keeps it untouched only when nobody joined.
      return flight.joined > 0 ? (copyJson(response) as GatewayGraphQLResponse) : response;
    } finally {
      inflight.delete(key);
    }
  };
}

/** The merge key of a fetch, or undefined when it must go upstream on its own. */
function keyOf(subgraph: string, options: Parameters<SubgraphCall>[0]): string | undefined {
  // Health checks and schema loading carry no request context, hence no identity: never merged.
  const identity = (options.context as { identity?: Identity } | undefined)?.identity;
  if (identity?.kind !== 'anonymous') return undefined;
  const query = options.request.query;
  if (!query || !isQuery(query)) return undefined;
  // Everything the subgraph learns about the caller, minus what differs per request without changing the answer.
  const { requestId: _requestId, userAgent: _userAgent, ...claims } = identity;
  return JSON.stringify([subgraph, claims, query, options.request.variables ?? null]);
}

/** The subgraph document is a query (the gateway writes `query …` or a bare `{ … }`; `mutation …` is never merged). */
function isQuery(document: string): boolean {
  const start = document.trimStart();
  return start.startsWith('{') || /^query\b/.test(start);
}
