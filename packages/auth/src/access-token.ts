import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JSONWebKeySet, type CryptoKey } from 'jose';
import { unauthenticated } from '@firefly/errors';
import { ROLES, type Role } from './identity.ts';

/**
 * Access tokens: short-lived JWTs signed with Ed25519 (EdDSA), `kid` in the header so keys rotate. Clients hold
 * them; the gateway verifies them against the public JWKS, which it also serves at /.well-known/jwks.json.
 * During a rotation two keys are active: the newest signs, both verify.
 */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

/** Claims of a verified access token. */
export interface AccessClaims {
  userId: string;
  tenantId: string;
  sessionId: string;
  roles: Role[];
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  /** Lifetime in seconds. Default 900 (15 min). */
  ttlSeconds?: number;
}

/** Parses ACCESS_TOKEN_KEYS: a JSON array of private Ed25519 JWKs, each with a `kid`; the first one signs. */
export function parseSigningKeys(json: string): SigningKey[] {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('expected a non-empty JSON array of private JWKs');
  return parsed.map((jwk: JWK) => {
    if (!jwk.kid || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d) throw new Error('every key must be a private Ed25519 JWK with a kid');
    return { kid: jwk.kid, privateJwk: jwk };
  });
}

/** Makes a fresh signing key (development, tests, and `npm run keys:generate`). */
export async function generateSigningKey(kid = `dev-${Date.now().toString(36)}`): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { kid, privateJwk: { ...privateJwk, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' } };
}

/** The public half of the keys, as served at /.well-known/jwks.json. */
export function publicJwks(keys: SigningKey[]): JSONWebKeySet {
  return {
    keys: keys.map(({ kid, privateJwk }) => {
      const { d: _private, ...publicJwk } = privateJwk;
      return { ...publicJwk, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
    }),
  };
}

/**
 * Parses ACCESS_TOKEN_PUBLIC_KEYS: a JSON array of public Ed25519 JWKs with `kid` (what /.well-known/jwks.json
 * serves). A private key here is refused: a verifier must not hold signing material.
 */
export function parsePublicKeys(json: string): JSONWebKeySet {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('expected a non-empty JSON array of public JWKs');
  return {
    keys: parsed.map((jwk: JWK) => {
      if (!jwk.kid || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('every key must be a public Ed25519 JWK with a kid');
      if (jwk.d) throw new Error(`key ${jwk.kid} is a private key; give the verifier public keys only`);
      return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
    }),
  };
}

export function createAccessTokenIssuer(keys: SigningKey[], options: AccessTokenOptions) {
  const signer = keys[0];
  if (!signer) throw new Error('no signing key');
  let key: Promise<CryptoKey | Uint8Array> | undefined;
  const ttlSeconds = options.ttlSeconds ?? 900;
  return {
    ttlSeconds,
    async issue(claims: AccessClaims): Promise<string> {
      key ??= importJWK(signer.privateJwk, ACCESS_TOKEN_ALGORITHM);
      return new SignJWT({ tid: claims.tenantId, sid: claims.sessionId, roles: claims.roles })
        .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: signer.kid, typ: 'at+jwt' })
        .setSubject(claims.userId)
        // A unique id per token: two tokens of one session minted in the same second still differ.
        .setJti(randomUUID())
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key);
    },
  };
}

/**
 * Verifies signature (only EdDSA; `alg: none` and HMAC confusion are refused), expiry, issuer and audience,
 * and that the key id is one of ours. Every failure is UNAUTHENTICATED with a generic message.
 */
export function createAccessTokenVerifier(jwks: JSONWebKeySet, options: AccessTokenOptions & { cacheSize?: number }) {
  const keySet = createLocalJWKSet(jwks);
  // A client sends the same token on every request for 15 minutes; re-checking its Ed25519 signature each time
  // is the most expensive step of authentication. Verified tokens are remembered until they expire (bounded,
  // oldest dropped first). Revocation is unaffected: the session is checked on every request by the caller.
  const cache = new Map<string, { claims: AccessClaims; expiresAtMs: number }>();
  const cacheSize = options.cacheSize ?? 10_000;
  return async function verifyAccessToken(token: string): Promise<AccessClaims> {
    const cached = cache.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.claims;
      cache.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, keySet, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
      });
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is Role => ROLES.includes(r as Role)) : [];
      if (typeof payload.sub !== 'string' || typeof payload.tid !== 'string' || typeof payload.sid !== 'string') throw new Error('claims');
      const claims: AccessClaims = { userId: payload.sub, tenantId: payload.tid, sessionId: payload.sid, roles };
      if (typeof payload.exp === 'number' && cacheSize > 0) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(token, { claims, expiresAtMs: payload.exp * 1000 });
      }
      return claims;
    } catch {
      throw unauthenticated('Invalid or expired access token');
    }
  };
}

/**
 * The keys of ACCESS_TOKEN_KEYS, or — when it is unset, which production refuses at boot — one ephemeral key, after
 * calling `onEphemeral` so the process can warn that tokens it signs verify nowhere else.
 */
export async function resolveSigningKeys(json: string | undefined, onEphemeral?: () => void): Promise<SigningKey[]> {
  if (json) return parseSigningKeys(json);
  onEphemeral?.();
  return [await generateSigningKey()];
}
