import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { useOperationMetrics } from '../operation-metrics.ts';

const record = (operationName: string | undefined, clientName: string | undefined, errorCodes: string[] = []) => ({
  transport: 'http' as const,
  requestId: 'r',
  startedAt: performance.now() - 20,
  operationName,
  operationType: 'query' as const,
  clientName,
  status: 200,
  errorCodes,
});

async function series(registry: Registry, name: string): Promise<Record<string, string | number>[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  return (metric.values as { labels: Record<string, string | number>; metricName?: string }[]).filter((v) => !v.metricName || v.metricName.endsWith('_count')).map((v) => v.labels);
}

describe('gateway operation metrics', () => {
  it('labels operations by name, type, client and outcome, and counts each error code once per operation', async () => {
    const registry = new Registry();
    const module = useOperationMetrics({ registry });
    module.afterOperation!(record('Dashboard', 'firefly-web'));
    module.afterOperation!(record('Dashboard', 'firefly-web', ['FORBIDDEN', 'FORBIDDEN']));
    module.afterOperation!(record(undefined, undefined));
    expect(await series(registry, 'gateway_operation_duration_seconds')).toEqual([
      { operation: 'Dashboard', type: 'query', client: 'firefly-web', outcome: 'ok' },
      { operation: 'Dashboard', type: 'query', client: 'firefly-web', outcome: 'error' },
      { operation: 'anonymous', type: 'query', client: 'unknown', outcome: 'ok' },
    ]);
    const errors = (await registry.getMetricsAsJSON()).find((m) => m.name === 'gateway_operation_errors_total')!.values;
    expect(errors).toEqual([{ labels: { operation: 'Dashboard', client: 'firefly-web', code: 'FORBIDDEN' }, value: 1 }]);
  });

  it('keeps the label values bounded: names clients invent past the cap become other, malformed ones invalid', async () => {
    const registry = new Registry();
    const module = useOperationMetrics({ registry, maxOperations: 2, maxClients: 1 });
    for (const name of ['A', 'B', 'C', 'D', 'A']) module.afterOperation!(record(name, 'web'));
    module.afterOperation!(record('not a name!', 'other client'));
    module.afterOperation!(record('x'.repeat(65), 'web'));
    const labels = await series(registry, 'gateway_operation_duration_seconds');
    expect(new Set(labels.map((l) => l['operation']))).toEqual(new Set(['A', 'B', 'other', 'invalid']));
    expect(new Set(labels.map((l) => l['client']))).toEqual(new Set(['web', 'invalid']));
  });
});
