import { DEFAULT_TENANT_ID } from '@firefly/auth';
import { badUserInput } from '@firefly/errors';

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
