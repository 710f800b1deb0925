import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitStateName, UpstreamFailureReason } from './data-source.ts';

const STATE_VALUES: Record<CircuitStateName, number> = { closed: 0, open: 1, half_open: 2 };

/**
 * Prometheus metrics of the gateway's subgraph calls: each subgraph's circuit breaker state and failed calls by
 * reason. Returned as the data sources' `onCircuitChange` / `onFailure` hooks.
 */
export function createUpstreamMetrics(registry: Registry, subgraphs: readonly string[]) {
  const registers = [registry];
  const circuit = new Gauge({
    name: 'gateway_subgraph_circuit_state',
    help: 'Circuit breaker state per subgraph: 0 closed, 1 open (fails fast), 2 half-open (probing)',
    labelNames: ['subgraph'] as const,
    registers,
  });
  for (const subgraph of subgraphs) circuit.set({ subgraph }, 0);
  const failures = new Counter({
    name: 'gateway_subgraph_failures_total',
    help: 'Subgraph calls that ended in UPSTREAM_UNAVAILABLE, by subgraph and reason (circuit_open: refused by the open breaker)',
    labelNames: ['subgraph', 'reason'] as const,
    registers,
  });
  return {
    onCircuitChange: (subgraph: string, state: CircuitStateName) => circuit.set({ subgraph }, STATE_VALUES[state]),
    onFailure: (subgraph: string, reason: UpstreamFailureReason) => failures.inc({ subgraph, reason }),
  };
}
