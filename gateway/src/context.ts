import type { Identity } from '@firefly/auth';
import type { Logger } from '@firefly/logger';
import type { OperationRecord } from './modules/module.ts';

/** What the gateway knows about one operation while it runs, on HTTP and graphql-ws alike. */
export interface GatewayContext {
  identity: Identity;
  requestId: string;
  /** Child of the process logger bound to `requestId` (never to client input). */
  logger: Logger;
  /** The gateway credential for this request, signed once and reused for every subgraph fetch. */
  credential: () => Promise<string>;
  /** Filled in as the operation goes (name, type, error codes); read by the access log when it ends. */
  operation: OperationRecord;
}
