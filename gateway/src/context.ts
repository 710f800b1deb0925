import type { Identity } from '@firefly/auth';
import type { Logger } from '@firefly/logger';

export interface GatewayContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
  /** The gateway credential for this request, signed once and reused for every subgraph fetch. */
  credential: () => Promise<string>;
}
