import { Kind, visit, type ConstDirectiveNode, type DocumentNode, type GraphQLFieldConfig, type GraphQLSchema } from 'graphql';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { rateLimitDirective } from 'graphql-rate-limit-directive';
import { RateLimiterRedis, type IRateLimiterStoreOptions } from 'rate-limiter-flexible';
import { parseRateLimitOverrides, type RateLimitSetting } from '@firefly/config';
import { rateLimited } from '@firefly/errors';
import type { Redis } from '@firefly/redis';
import type { BaseContext } from './context.ts';

/**
 * Whom a `@rateLimit` counts: `caller` — the signed-in user (per tenant), or the client IP for an anonymous caller;
 * `client-ip` — the client IP whoever calls (sign-in fields, where there is no user yet).
 */
export type RateLimitScope = 'caller' | 'client-ip';

export interface RateLimitOptions {
  /** Counters live here, so every replica of the subgraph shares them. */
  redis: Redis;
  per: RateLimitScope;
  /** `Type.field=limit/seconds` or `Type=limit/seconds` entries overriding the schema's values (`<NAME>_RATE_LIMITS`). */
  overrides?: string;
}

/**
 * `@rateLimit(limit, duration)` (graphql-rate-limit-directive) with counters in Redis (rate-limiter-flexible): at
 * most `limit` calls per `duration` seconds, per caller and field. On a type it applies to every field without its
 * own. A limited call fails with RATE_LIMITED and `retryAfterSeconds`. Calls with a service credential (our own
 * services) are not counted. On a Subscription field the limit counts subscription starts, never events.
 * The client IP comes from the gateway credential, never from a client header.
 */
export function createRateLimits(subgraph: string, options: RateLimitOptions) {
  const overrides = parseRateLimitOverrides(options.overrides ?? '');
  const { rateLimitDirectiveTransformer } = rateLimitDirective<BaseContext, IRateLimiterStoreOptions>({
    keyGenerator: (_directive, _source, _args, context, info) => counterId(context.tenantId, whoOf(context, options.per), `${info.parentType.name}.${info.fieldName}`),
    pointsCalculator: (_directive, _source, _args, context) => (context.identity.kind === 'service' ? 0 : 1),
    onLimit: (response) => {
      throw rateLimited(response.msBeforeNext / 1000);
    },
    limiterClass: RateLimiterRedis,
    limiterOptions: { storeClient: options.redis, keyPrefix: counterPrefix(subgraph) },
  });
  return {
    /** The schema's `@rateLimit` arguments rewritten by the overrides. */
    typeDefs: (document: DocumentNode) => applyRateLimitOverrides(document, overrides),
    transformSchema: (schema: GraphQLSchema) => countSubscriptionStarts(schema, rateLimitDirectiveTransformer),
  };
}

const counterPrefix = (subgraph: string) => `rate-limit:${subgraph}`;
const counterId = (tenantId: string, who: string, field: string) => `${tenantId}|${who}|${field}`;

/**
 * The Redis key (under the process's REDIS_KEY_PREFIX) counting one caller's calls of one field, e.g.
 * `rateLimitCounterKey('user', 'default', 'ip:10.0.0.1', 'Mutation.login')`; its TTL is what is left of the window.
 * `who` is `user:<id>` or `ip:<client ip>`.
 */
export function rateLimitCounterKey(subgraph: string, tenantId: string, who: string, field: string): string {
  return `${counterPrefix(subgraph)}:${counterId(tenantId, who, field)}`;
}

function whoOf(context: BaseContext, per: RateLimitScope): string {
  const { identity } = context;
  if (per === 'caller' && identity.kind === 'user') return `user:${identity.userId}`;
  return `ip:${identity.clientIp ?? 'unknown'}`;
}

/**
 * graphql-rate-limit-directive wraps `resolve`, which on a Subscription field runs once per event. Around the
 * transform, each Subscription field's `subscribe` stands in for its `resolve`, so the wrapper counts starts.
 */
function countSubscriptionStarts(schema: GraphQLSchema, transform: (schema: GraphQLSchema) => GraphQLSchema): GraphQLSchema {
  const subscriptionType = schema.getSubscriptionType()?.name;
  if (!subscriptionType) return transform(schema);
  const swap = (target: GraphQLSchema) =>
    mapSchema(target, {
      [MapperKind.OBJECT_FIELD]: (field: GraphQLFieldConfig<unknown, unknown>, _name: string, typeName: string) =>
        typeName === subscriptionType ? { ...field, resolve: field.subscribe, subscribe: field.resolve } : field,
    });
  return swap(transform(swap(schema)));
}

/** Rewrites the `@rateLimit` of the fields (`Type.field`) and types (`Type`) named in the overrides. */
function applyRateLimitOverrides(document: DocumentNode, overrides: ReadonlyMap<string, RateLimitSetting>): DocumentNode {
  if (overrides.size === 0) return document;
  let typeName = '';
  const replace = <T extends { directives?: readonly ConstDirectiveNode[] | undefined }>(node: T, setting: RateLimitSetting | undefined): T | undefined => {
    if (!setting) return undefined;
    const others = (node.directives ?? []).filter((d) => d.name.value !== 'rateLimit');
    return { ...node, directives: [...others, rateLimitNode(setting)] };
  };
  const enterType = {
    enter: <T extends { name: { value: string }; directives?: readonly ConstDirectiveNode[] | undefined }>(node: T) => {
      typeName = node.name.value;
      return replace(node, overrides.get(typeName));
    },
  };
  return visit(document, {
    ObjectTypeDefinition: enterType,
    ObjectTypeExtension: enterType,
    FieldDefinition: (node) => replace(node, overrides.get(`${typeName}.${node.name.value}`)),
  });
}

function rateLimitNode({ limit, duration }: RateLimitSetting): ConstDirectiveNode {
  const intArg = (name: string, value: number) => ({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: name }, value: { kind: Kind.INT, value: String(value) } }) as const;
  return { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'rateLimit' }, arguments: [intArg('limit', limit), intArg('duration', duration)] };
}
