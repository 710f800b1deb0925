import { createAccessTokenVerifier, generateSigningKey, parseSigningKeys, publicJwks, type Identity, type SigningKey } from '@firefly/auth';
import { unauthenticated } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayConfig } from './config.ts';
import type { TokenAuthenticator } from './server.ts';

/** The signing keys from ACCESS_TOKEN_KEYS, or (development only) an ephemeral one, loudly. */
export async function loadSigningKeys(config: Pick<GatewayConfig, 'ACCESS_TOKEN_KEYS' | 'NODE_ENV'>, logger: Logger): Promise<SigningKey[]> {
  if (config.ACCESS_TOKEN_KEYS) return parseSigningKeys(config.ACCESS_TOKEN_KEYS);
  logger.warn('ACCESS_TOKEN_KEYS is not set: using an ephemeral development key (tokens from other processes will not verify)');
  return [await generateSigningKey()];
}

/**
 * Verifies a bearer token and turns it into the identity carried to subgraphs. A token minted for another tenant
 * is refused: tenants never share a session.
 */
export function createTokenAuthenticator(keys: SigningKey[], config: Pick<GatewayConfig, 'ACCESS_TOKEN_ISSUER' | 'ACCESS_TOKEN_AUDIENCE'>): TokenAuthenticator {
  const verify = createAccessTokenVerifier(publicJwks(keys), { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
  return async (token, request): Promise<Identity> => {
    const claims = await verify(token);
    if (claims.tenantId !== request.tenantId) throw unauthenticated('Invalid or expired access token');
    return { kind: 'user', tenantId: claims.tenantId, requestId: request.requestId, userId: claims.userId, roles: claims.roles, sessionId: claims.sessionId };
  };
}
