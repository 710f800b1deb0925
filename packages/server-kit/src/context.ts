import type { Identity } from '@firefly/auth';
import type { Logger } from '@firefly/logger';

/** What every subgraph resolver can rely on; subgraphs extend it with loaders and services. */
export interface BaseContext {
  identity: Identity;
  tenantId: string;
  requestId: string;
  /** Child of the process logger bound to `requestId` (never to client input). */
  logger: Logger;
}
