import { readFileSync } from 'node:fs';
import type { Logger } from '@firefly/logger';
import { createSubgraphServer, sharedPolicies, type ReadinessCheck } from '@firefly/server-kit';
import { createConversationContext, type ConversationDeps } from './context.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface BuildConversationSubgraphOptions extends ConversationDeps {
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  exposeErrorDetails?: boolean;
  onStop?: () => Promise<void>;
}

/** Builds the conversation subgraph without listening (tests drive it; src/main.ts runs it). */
export function buildConversationSubgraph(options: BuildConversationSubgraphOptions) {
  return createSubgraphServer({
    name: 'conversation',
    typeDefs,
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger: options.logger,
    access: { policies: sharedPolicies },
    createContext: (base) => createConversationContext(options, base),
    readiness: options.readiness,
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: options.onStop,
  });
}
