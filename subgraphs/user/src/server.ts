import { readFileSync } from 'node:fs';
import type { Logger } from '@firefly/logger';
import { createSubgraphServer, sharedPolicies, type ReadinessCheck } from '@firefly/server-kit';
import { createUserContext, type UserDeps } from './context.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface BuildUserSubgraphOptions extends UserDeps {
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  exposeErrorDetails?: boolean;
  onStop?: () => Promise<void>;
}

/** Builds the user subgraph without listening (tests drive it; src/main.ts runs it). */
export function buildUserSubgraph(options: BuildUserSubgraphOptions) {
  return createSubgraphServer({
    name: 'user',
    typeDefs,
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger: options.logger,
    access: { policies: sharedPolicies },
    createContext: (base) => createUserContext(options, base),
    readiness: options.readiness,
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: options.onStop,
  });
}
