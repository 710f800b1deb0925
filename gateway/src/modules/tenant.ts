import type { IncomingMessage } from 'node:http';
import { DEFAULT_TENANT_ID } from '@firefly/auth';
import { badUserInput, forbidden } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { EMPTY_TENANT_DIRECTORY, followSharedState, parseTenantDirectory, TENANTS_STATE, type TenantDirectory } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { parseTenantHosts, type GatewayConfig } from '../config.ts';
import type { GatewayModule } from './module.ts';

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The tenant of a request: the host's tenant first — as MySQL maps it (setTenantHosts), else as TENANT_HOSTS does
 * (bootstrap and fallback) — so a tenant's own domain cannot be overridden by a header; then the tenant header; then
 * `default` (docs/api-guide.md, "Conventions").
 */
export function resolveTenant(
  input: { host: string | undefined; header: string | undefined },
  hosts: ReadonlyMap<string, string>,
  directory: TenantDirectory = EMPTY_TENANT_DIRECTORY,
): string {
  const host = input.host?.split(':')[0]?.toLowerCase().replace(/\.$/, '');
  const mapped = host ? (directory.byHost.get(host) ?? hosts.get(host)) : undefined;
  if (mapped) return mapped;
  const named = input.header?.trim().toLowerCase();
  if (named) {
    if (!TENANT_PATTERN.test(named)) throw badUserInput('The tenant header is not a valid tenant id');
    return named;
  }
  return DEFAULT_TENANT_ID;
}

/**
 * The tenant of an HTTP request or a graphql-ws connection: the Host mapping, then the tenant header — on graphql-ws
 * also accepted as a `connection_init` parameter of the same name, since browsers cannot set headers on a WebSocket.
 * Throws BAD_USER_INPUT for a malformed tenant name, and for a tenant MySQL does not know (`extensions.reason:
 * tenant_unknown`; `default` always passes, and nothing is refused as unknown until this replica holds the tenants
 * from MySQL); FORBIDDEN for a suspended tenant (every request of it, signed in or not, from the moment this replica
 * holds the change).
 */
export function createTenantResolver(config: Pick<GatewayConfig, 'TENANT_HEADER' | 'TENANT_HOSTS'>, directory: () => TenantDirectory = () => EMPTY_TENANT_DIRECTORY) {
  const hosts = parseTenantHosts(config.TENANT_HOSTS);
  const headerName = config.TENANT_HEADER.toLowerCase();
  return function tenantOf(message: IncomingMessage, connectionParams?: Readonly<Record<string, unknown>>): string {
    const fromParams = connectionParams?.[config.TENANT_HEADER];
    const header = firstHeader(message, headerName) ?? (typeof fromParams === 'string' ? fromParams : undefined);
    const current = directory();
    const tenantId = resolveTenant({ host: firstHeader(message, 'host'), header }, hosts, current);
    if (current.suspended.has(tenantId)) throw forbidden('This tenant is suspended', { reason: 'tenant_suspended' });
    if (current.loaded && tenantId !== DEFAULT_TENANT_ID && !current.known.has(tenantId)) throw badUserInput('Unknown tenant', { reason: 'tenant_unknown' });
    return tenantId;
  };
}

function firstHeader(message: IncomingMessage, name: string): string | undefined {
  const value = message.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface TenantsModule extends GatewayModule {
  /** The tenants as this replica holds them now. */
  directory(): TenantDirectory;
}

/**
 * The tenants every request is routed and checked by, held in this replica's memory: the user subgraph's copy in
 * Redis (MySQL's Tenant and TenantHost rows), loaded on start, replaced when a change is announced (Redis pub/sub)
 * and compared with Redis's revision every `recheckMs` (@firefly/platform-state). Until a copy exists — the user
 * subgraph never ran against this Redis — only TENANT_HOSTS maps hosts, no tenant is suspended and none is refused as
 * unknown.
 */
export function useTenants(options: { redis: Redis; createSubscriber: () => Redis; closeSubscriber: (subscriber: Redis) => Promise<void>; logger: Logger; recheckMs: number }): TenantsModule {
  const follower = followSharedState<TenantDirectory>({
    redis: options.redis,
    kind: TENANTS_STATE,
    parse: parseTenantDirectory,
    initial: EMPTY_TENANT_DIRECTORY,
    createSubscriber: options.createSubscriber,
    closeSubscriber: options.closeSubscriber,
    logger: options.logger,
    recheckMs: options.recheckMs,
  });
  const started = follower.start();
  return {
    name: 'tenants',
    directory: () => follower.current(),
    readiness: [
      {
        name: 'tenants',
        async check() {
          await started;
          if (!follower.loaded) throw new Error('tenants not loaded from Redis yet');
        },
      },
    ],
    stop: () => follower.stop(),
  };
}
