import { createAccessTokenVerifier, parsePublicKeys, publicJwks, resolveSigningKeys, type Identity, type RequestOrigin } from '@firefly/auth';
import type { JSONWebKeySet } from 'jose';
import type { SessionStore } from '@firefly/auth/sessions';
import { unauthenticated, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { redisUnavailableReason } from '@firefly/redis';
import type { GatewayConfig } from '../config.ts';

/** Verifies a client's bearer token; provided by the identity layer. Throws an AppError when the token is bad. */
export type TokenAuthenticator = (token: string, request: { tenantId: string; requestId: string } & RequestOrigin) => Promise<Identity>;

/**
 * The token of an `Authorization` value (an HTTP header, or graphql-ws's `connection_init` parameter of that name):
 * `undefined` when there is none (an anonymous caller), `null` when it is there but not `Bearer <token>` — which is
 * refused, never treated as anonymous.
 */
export function bearerTokenOf(authorization: unknown): string | undefined | null {
  if (authorization === undefined || authorization === null || authorization === '') return undefined;
  if (typeof authorization !== 'string') return null;
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? null;
}

/**
 * The public keys access tokens are verified with: ACCESS_TOKEN_PUBLIC_KEYS, else the public halves of
 * ACCESS_TOKEN_KEYS, else (development only) an ephemeral key, loudly.
 */
export async function loadVerificationKeys(config: Pick<GatewayConfig, 'ACCESS_TOKEN_KEYS' | 'ACCESS_TOKEN_PUBLIC_KEYS'>, logger: Logger): Promise<JSONWebKeySet> {
  if (config.ACCESS_TOKEN_PUBLIC_KEYS) return parsePublicKeys(config.ACCESS_TOKEN_PUBLIC_KEYS);
  const keys = await resolveSigningKeys(config.ACCESS_TOKEN_KEYS, () =>
    logger.warn('ACCESS_TOKEN_KEYS is not set: using an ephemeral development key (tokens from other processes will not verify)'),
  );
  return publicJwks(keys);
}

export interface TokenAuthenticatorOptions {
  /**
   * The live-session store the user subgraph writes (Redis). When given, every token's session must be live, and
   * the roles come from the session record (so role changes, logout, revocation, suspension and password changes
   * apply on the very next request). Without it only the token itself is checked — for tools and unit tests only.
   */
  sessions?: Pick<SessionStore, 'get'>;
}

const INVALID = 'Invalid or expired access token';

/**
 * Verifies a bearer token and turns it into the identity carried to subgraphs: signature (EdDSA only, so
 * `alg: none` and HMAC confusion fail), `kid` among our keys, expiry, issuer, audience, `typ`; then the tenant
 * of the request (a token minted for another tenant is refused: tenants never share a session) and the session
 * being live. Every failure is the same UNAUTHENTICATED; a Redis outage fails closed as UPSTREAM_UNAVAILABLE.
 */
export function createTokenAuthenticator(
  jwks: JSONWebKeySet,
  config: Pick<GatewayConfig, 'ACCESS_TOKEN_ISSUER' | 'ACCESS_TOKEN_AUDIENCE'>,
  options: TokenAuthenticatorOptions = {},
): TokenAuthenticator {
  const verify = createAccessTokenVerifier(jwks, { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
  return async (token, request): Promise<Identity> => {
    const claims = await verify(token);
    if (claims.tenantId !== request.tenantId) throw unauthenticated(INVALID);
    let roles = claims.roles;
    if (options.sessions) {
      let live;
      try {
        live = await options.sessions.get(claims.sessionId);
      } catch (error) {
        const reason = redisUnavailableReason(error);
        throw upstreamUnavailable('Sessions cannot be checked right now', { service: 'redis', ...(reason ? { reason } : {}) });
      }
      if (!live || live.userId !== claims.userId || live.tenantId !== claims.tenantId) throw unauthenticated(INVALID);
      roles = live.roles;
    }
    const origin: RequestOrigin = {};
    if (request.clientIp) origin.clientIp = request.clientIp;
    if (request.userAgent) origin.userAgent = request.userAgent;
    return { kind: 'user', tenantId: claims.tenantId, requestId: request.requestId, userId: claims.userId, roles, sessionId: claims.sessionId, ...origin };
  };
}
