import { Kind, visit, type DocumentNode, type GraphQLSchema } from 'graphql';
import { rateLimitDirective } from 'graphql-rate-limit-directive';
import { RateLimiterRedis, type IRateLimiterStoreOptions } from 'rate-limiter-flexible';
import type { Redis } from '@firefly/redis';
import { rateLimited } from '@firefly/errors';
import type { BaseContext } from '@firefly/server-kit';
import type { RateLimitOverride } from '../config.ts';

/**
 * `@rateLimit` (graphql-rate-limit-directive) with counters in Redis (rate-limiter-flexible), so the limit holds
 * across every replica of this subgraph. Calls are counted per tenant, client IP (from the gateway credential,
 * never from a client header) and field; a limited call fails with RATE_LIMITED and `retryAfterSeconds`.
 */
export function createRateLimitTransform(redis: Redis): (schema: GraphQLSchema) => GraphQLSchema {
  const { rateLimitDirectiveTransformer } = rateLimitDirective<BaseContext, IRateLimiterStoreOptions>({
    keyGenerator: (_directive, _source, _args, context, info) =>
      `${context.tenantId}|${context.identity.clientIp ?? 'unknown'}|${info.parentType.name}.${info.fieldName}`,
    onLimit: (response) => {
      throw rateLimited(response.msBeforeNext / 1000);
    },
    limiterClass: RateLimiterRedis,
    limiterOptions: { storeClient: redis, keyPrefix: 'rate-limit' },
  });
  return rateLimitDirectiveTransformer;
}

/** Rewrites the `@rateLimit` arguments of the fields named in USER_RATE_LIMITS (`Type.field`). */
export function applyRateLimitOverrides(document: DocumentNode, overrides: ReadonlyMap<string, RateLimitOverride>): DocumentNode {
  if (overrides.size === 0) return document;
  let typeName = '';
  return visit(document, {
    ObjectTypeDefinition: { enter: (node) => void (typeName = node.name.value) },
    ObjectTypeExtension: { enter: (node) => void (typeName = node.name.value) },
    FieldDefinition(node) {
      const override = overrides.get(`${typeName}.${node.name.value}`);
      if (!override) return undefined;
      const others = (node.directives ?? []).filter((d) => d.name.value !== 'rateLimit');
      const intArg = (name: string, value: number) => ({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: name }, value: { kind: Kind.INT, value: String(value) } }) as const;
      return {
        ...node,
        directives: [
          ...others,
          { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'rateLimit' }, arguments: [intArg('limit', override.limit), intArg('duration', override.duration)] },
        ],
      };
    },
  });
}
