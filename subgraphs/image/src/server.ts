import { readFileSync } from 'node:fs';
import type { Logger } from '@firefly/logger';
import { createSubgraphServer, type ReadinessCheck } from '@firefly/server-kit';
import { createImageContext, type ImageDeps } from './context.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export interface BuildImageSubgraphOptions extends ImageDeps {
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  exposeErrorDetails?: boolean;
  onStop?: () => Promise<void>;
}

/** Builds the image subgraph without listening (tests drive it; src/main.ts runs it). */
export function buildImageSubgraph(options: BuildImageSubgraphOptions) {
  return createSubgraphServer({
    name: 'image',
    typeDefs,
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger: options.logger,
    createContext: (base) => createImageContext(options, base),
    readiness: options.readiness,
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: options.onStop,
  });
}
