import { performance } from 'node:perf_hooks';
import type { Logger } from '@firefly/logger';
import type { GatewayModule, OperationRecord } from './module.ts';
import { partnerOf } from './partners/index.ts';

/**
 * The access log: one structured line per operation, on HTTP and graphql-ws alike (a subscription's line is written
 * when it ends). It names the operation, the client, the caller, the outcome and the request id (the one echoed in
 * the `x-request-id` answer header), and for partner requests the partner and key ids — never the document, the
 * variables, a token or an API key.
 */
export function useAccessLog(options: { logger: Logger }): GatewayModule {
  const logger = options.logger.child({ component: 'access-log' });
  return {
    name: 'access-log',
    afterOperation(record) {
      logger.info(accessLine(record), 'operation');
    },
  };
}

function accessLine(record: OperationRecord): Record<string, unknown> {
  const identity = record.identity;
  const partner = partnerOf(identity);
  return {
    requestId: record.requestId,
    transport: record.transport,
    operationName: record.operationName ?? null,
    operationType: record.operationType ?? null,
    clientName: record.clientName ?? null,
    clientVersion: record.clientVersion ?? null,
    clientIp: record.clientIp ?? null,
    tenantId: identity?.tenantId ?? null,
    userId: identity?.kind === 'user' ? identity.userId : null,
    ...(partner ? { partnerId: partner.partnerId, apiKeyId: partner.apiKeyId } : {}),
    durationMs: Math.round((performance.now() - record.startedAt) * 10) / 10,
    ...(record.status !== undefined ? { status: record.status } : {}),
    ...(record.endReason !== undefined ? { endReason: record.endReason } : {}),
    errorCodes: record.errorCodes,
  };
}
