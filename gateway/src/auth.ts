import { createAccessTokenVerifier, publicJwks, resolveSigningKeys, type Identity, type RequestOrigin, type SigningKey } from '@firefly/auth';
import type { SessionStore } from '@firefly/auth/sessions';
import { unauthenticated, upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayConfig } from './config.ts';
import type { TokenAuthenticator } from './server.ts';

/** The signing keys from ACCESS_TOKEN_KEYS, or (development only) an ephemeral one, loudly. */
export async function loadSigningKeys(config: Pick<GatewayConfig, 'ACCESS_TOKEN_KEYS' | 'NODE_ENV'>, logger: Logger): Promise<SigningKey[]> {
  return resolveSigningKeys(config.ACCESS_TOKEN_KEYS, () =>
    logger.warn('ACCESS_TOKEN_KEYS is not set: using an ephemeral development key (tokens from other processes will not verify)'),
  );
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
  keys: SigningKey[],
  config: Pick<GatewayConfig, 'ACCESS_TOKEN_ISSUER' | 'ACCESS_TOKEN_AUDIENCE'>,
  options: TokenAuthenticatorOptions = {},
): TokenAuthenticator {
  const verify = createAccessTokenVerifier(publicJwks(keys), { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
  return async (token, request): Promise<Identity> => {
    const claims = await verify(token);
    if (claims.tenantId !== request.tenantId) throw unauthenticated(INVALID);
    let roles = claims.roles;
    if (options.sessions) {
      let live;
      try {
        live = await options.sessions.get(claims.sessionId);
      } catch {
        throw upstreamUnavailable('Sessions cannot be checked right now', { service: 'redis' });
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
