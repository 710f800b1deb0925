import { performance } from 'node:perf_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { GatewayModule, OperationRecord } from './module.ts';

/** A GraphQL name as the spec allows it, short enough for a label; anything else is not used as a label value. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** Client names are free text (apollographql-client-name): a conservative character set. */
const CLIENT = /^[\w.@/-]{1,64}$/;

/**
 * Keeps a label's values bounded: the first `max` distinct values are used as they are, later new ones become
 * `other` (operation and client names come from clients, and every distinct value is a new time series).
 */
function boundedLabel(max: number, pattern: RegExp, missing: string) {
  const seen = new Set<string>();
  return (value: string | undefined): string => {
    if (!value) return missing;
    if (!pattern.test(value)) return 'invalid';
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

/**
 * Per-operation metrics of the gateway, on HTTP and graphql-ws alike (docs/operations.md, "Monitoring"): how long each
 * operation took and how it ended, by operation name, operation type and client name (`apollographql-client-name`),
 * and the error codes clients received. A subscription is observed when it ends (its duration is its lifetime).
 */
export function useOperationMetrics(options: { registry: Registry; maxOperations?: number; maxClients?: number }): GatewayModule {
  const registers = [options.registry];
  const operationOf = boundedLabel(options.maxOperations ?? 200, NAME, 'anonymous');
  const clientOf = boundedLabel(options.maxClients ?? 50, CLIENT, 'unknown');
  const duration = new Histogram({
    name: 'gateway_operation_duration_seconds',
    help: 'GraphQL operations through the gateway by operation name, type, client name and outcome (ok, error); subscriptions when they end',
    labelNames: ['operation', 'type', 'client', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const errors = new Counter({
    name: 'gateway_operation_errors_total',
    help: 'Errors clients received from the gateway, by operation name, client name and extensions.code',
    labelNames: ['operation', 'client', 'code'] as const,
    registers,
  });
  return {
    name: 'operation-metrics',
    afterOperation(record: OperationRecord) {
      const operation = operationOf(record.operationName);
      const client = clientOf(record.clientName);
      const failed = record.errorCodes.length > 0 || (record.status !== undefined && record.status >= 500);
      duration.observe({ operation, type: record.operationType ?? 'unknown', client, outcome: failed ? 'error' : 'ok' }, (performance.now() - record.startedAt) / 1_000);
      for (const code of new Set(record.errorCodes)) errors.inc({ operation, client, code });
    },
  };
}
