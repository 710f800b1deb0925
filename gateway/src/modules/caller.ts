import type { IncomingMessage } from 'node:http';
import type { Identity, RequestOrigin } from '@firefly/auth';
import { unauthenticated } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayConfig } from '../config.ts';
import { bearerTokenOf, type TokenAuthenticator } from './auth.ts';
import { createClientOrigin, type TrustProxy } from './client-origin.ts';
import { API_KEY_HEADER, partnerAccountIdentity, type PartnerKey, type PartnerKeyResolver } from './partners/index.ts';
import { requestIdOf, requestLogger } from './request-id.ts';
import type { TenantDirectory } from '@firefly/platform-state';
import { createTenantResolver } from './tenant.ts';

/** Who is calling, as every transport sees it. */
export interface Caller {
  requestId: string;
  tenantId: string;
  origin: RequestOrigin;
  identity: Identity;
  /** The verified bearer token (graphql-ws re-checks it and closes the socket when it expires). */
  token: string | undefined;
  logger: Logger;
  /** The partner key the request was made with (`x-api-key`), for signing and per-key limits. */
  partnerKey?: PartnerKey;
}

export interface CallerResolverOptions {
  config: Pick<GatewayConfig, 'TENANT_HEADER' | 'TENANT_HOSTS'>;
  logger: Logger;
  trustProxy: TrustProxy;
  /** Without one, every bearer token is refused (there is nothing to verify it with). */
  authenticate: TokenAuthenticator | undefined;
  /** Resolves `x-api-key`; without one, every API key is refused. */
  partnerKeys?: PartnerKeyResolver | undefined;
  /** The tenants as this replica holds them (host mappings, suspensions); without it, TENANT_HOSTS only. */
  tenants?: () => TenantDirectory;
}

/**
 * Request identity, tenant, client origin and bearer authentication in one step, written once for both transports:
 * HTTP passes the request and its `Authorization` header, graphql-ws its upgrade request and the `authorization`
 * parameter of `connection_init`. Throws an AppError: BAD_USER_INPUT (tenant), FORBIDDEN (suspended tenant), UNAUTHENTICATED (token),
 * UPSTREAM_UNAVAILABLE (sessions cannot be checked).
 */
export function createCallerResolver(options: CallerResolverOptions) {
  const tenantOf = createTenantResolver(options.config, options.tenants);
  const originOf = createClientOrigin(options.trustProxy);
  return async function resolveCaller(message: IncomingMessage, authorization: unknown, connectionParams?: Readonly<Record<string, unknown>>): Promise<Caller> {
    const requestId = requestIdOf(message);
    const tenantId = tenantOf(message, connectionParams);
    const origin = originOf(message);
    const request = { tenantId, requestId, ...origin };
    const token = bearerTokenOf(authorization);
    const apiKey = message.headers[API_KEY_HEADER];
    if (apiKey !== undefined) {
      // A partner request: the key must be good whatever else is sent. With a bearer token too, it acts as that user.
      if (typeof apiKey !== 'string' || !options.partnerKeys) throw unauthenticated('Invalid API key');
      const partnerKey = await options.partnerKeys(apiKey, request);
      const partner = { partnerId: partnerKey.partnerId, apiKeyId: partnerKey.id };
      let identity: Identity;
      if (token === undefined) identity = partnerAccountIdentity(partnerKey, request);
      else if (token === null || !options.authenticate) throw unauthenticated('Invalid access token');
      else identity = { ...(await options.authenticate(token, request)), partner };
      return { requestId, tenantId, origin, identity, token: token ?? undefined, logger: requestLogger(options.logger, requestId), partnerKey };
    }
    let identity: Identity;
    if (token === undefined) identity = { kind: 'anonymous', ...request };
    // A token we cannot verify is refused, never treated as anonymous.
    else if (token === null || !options.authenticate) throw unauthenticated('Invalid access token');
    else identity = await options.authenticate(token, request);
    return { requestId, tenantId, origin, identity, token: token ?? undefined, logger: requestLogger(options.logger, requestId) };
  };
}

export type ResolveCaller = ReturnType<typeof createCallerResolver>;
