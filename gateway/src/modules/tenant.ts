import type { IncomingMessage } from 'node:http';
import { DEFAULT_TENANT_ID } from '@firefly/auth';
import { badUserInput } from '@firefly/errors';
import { parseTenantHosts, type GatewayConfig } from '../config.ts';

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The tenant of a request: a host-name mapping first (so a tenant's own domain cannot be overridden by a
 * header), then the tenant header, then `default` (docs/api-guide.md, "Conventions").
 */
export function resolveTenant(input: { host: string | undefined; header: string | undefined }, hosts: Map<string, string>): string {
  const host = input.host?.split(':')[0]?.toLowerCase();
  const mapped = host ? hosts.get(host) : undefined;
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
 * Throws BAD_USER_INPUT for a malformed tenant name.
 */
export function createTenantResolver(config: Pick<GatewayConfig, 'TENANT_HEADER' | 'TENANT_HOSTS'>) {
  const hosts = parseTenantHosts(config.TENANT_HOSTS);
  const headerName = config.TENANT_HEADER.toLowerCase();
  return function tenantOf(message: IncomingMessage, connectionParams?: Readonly<Record<string, unknown>>): string {
    const fromParams = connectionParams?.[config.TENANT_HEADER];
    const header = firstHeader(message, headerName) ?? (typeof fromParams === 'string' ? fromParams : undefined);
    return resolveTenant({ host: firstHeader(message, 'host'), header }, hosts);
  };
}

function firstHeader(message: IncomingMessage, name: string): string | undefined {
  const value = message.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
