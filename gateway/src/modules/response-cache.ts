import ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '@firefly/logger';
import { readCatalogVersion, type Redis } from '@firefly/redis';
import type { GatewayContext } from '../context.ts';
import type { GatewayModule } from './module.ts';
import { redisKeyValueCache } from './redis-key-value-cache.ts';

/** Keys of the shared response cache, under the gateway's Redis key prefix (the plugin adds `fqc:`). */
const KEY_PREFIX = 'response-cache:';

export interface ResponseCacheOptions {
  redis: Redis;
  logger: Logger;
  /** Off: nothing is cached, but every answer still gets its `cache-control` header. */
  enabled: boolean;
}

/**
 * The shared response cache for public data (docs/architecture.md, "Response cache"), driven by the subgraphs'
 * `@cacheControl` hints, which reach the gateway as each subgraph answer's `cache-control` header
 * (RemoteGraphQLDataSource folds them into the operation's cache policy: the lowest maxAge wins, PRIVATE beats
 * PUBLIC, no hint means no caching). Apollo's response cache plugin on Redis stores and serves whole answers:
 *
 * - only for anonymous callers (read and write): nothing a signed-in user or partner receives is ever stored, and
 *   their answers are marked PRIVATE, so the header says `private` too;
 * - keyed by document, operation name, variables, the tenant and the catalog version (CATALOG_VERSION_KEY), which a
 *   subgraph bumps when an ADMIN changes a model or product — the next request everywhere misses the old entry;
 * - with `cache-control: max-age=N, public` on cacheable answers (Apollo's cache control plugin), `no-store` on
 *   everything else, including answers made outside Apollo Server (413, CSRF refusals), and `age` on cache hits.
 */
export function useResponseCache(options: ResponseCacheOptions): GatewayModule {
  const { redis, logger } = options;
  /** The catalog version read for an anonymous request; a request without one is neither read nor written. */
  const catalogVersions = new WeakMap<GatewayContext, string>();
  const responseCache = ApolloServerPluginResponseCache<GatewayContext>({
    cache: redisKeyValueCache(redis, logger, KEY_PREFIX, 'response cache'),
    // Only anonymous requests get here (requestDidStart below).
    async extraCacheKeyData({ contextValue }) {
      const { identity } = contextValue;
      try {
        const version = await readCatalogVersion(redis);
        catalogVersions.set(contextValue, version);
        return { tenant: identity.tenantId, catalog: version };
      } catch (error) {
        logger.warn({ err: error }, 'response cache: reading the catalog version failed; not caching');
        return null;
      }
    },
    shouldReadFromCache: async ({ contextValue }) => catalogVersions.has(contextValue),
    shouldWriteToCache: async ({ contextValue }) => catalogVersions.has(contextValue),
  });

  const apollo: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart(requestContext) {
      // Whatever a signed-in caller gets may be about them: never stored or shared, by us or by any cache on the way.
      if (requestContext.contextValue.identity.kind !== 'anonymous') {
        requestContext.overallCachePolicy.restrict({ scope: 'PRIVATE' });
        return undefined;
      }
      return options.enabled ? responseCache.requestDidStart?.(requestContext) : undefined;
    },
  };

  return {
    name: 'response-cache',
    http(_req, res, next) {
      // The default for every answer on /graphql; Apollo's cache control plugin replaces it on cacheable ones.
      res.setHeader('cache-control', 'no-store');
      next();
    },
    apollo,
  };
}
