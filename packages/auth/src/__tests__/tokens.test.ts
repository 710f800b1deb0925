import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt, SignJWT } from 'jose';
import {
  createAccessTokenIssuer,
  createAccessTokenVerifier,
  createCredentialSigner,
  createCredentialVerifier,
  generateRefreshToken,
  generateSigningKey,
  hashRefreshToken,
  isWellFormedRefreshToken,
  MAX_USER_AGENT_LENGTH,
  publicJwks,
  resolveSigningKeys,
} from '../index.ts';

const options = { issuer: 'firefly', audience: 'firefly-api' };
const claims = { userId: 'u1', tenantId: 'default', sessionId: 's1', roles: ['USER' as const] };

describe('access tokens', () => {
  it('carry kid and typ, and verify against the JWKS', async () => {
    const key = await generateSigningKey('k1');
    const token = await createAccessTokenIssuer([key], options).issue(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' });
    expect(await createAccessTokenVerifier(publicJwks([key]), options)(token)).toEqual(claims);
  });

  it('rotate: during a rotation both keys verify, the newest signs', async () => {
    const old = await generateSigningKey('2025-01');
    const next = await generateSigningKey('2025-07');
    const before = await createAccessTokenIssuer([old], options).issue(claims);
    const after = await createAccessTokenIssuer([next, old], options).issue(claims);
    expect(decodeProtectedHeader(after).kid).toBe('2025-07');
    const verify = createAccessTokenVerifier(publicJwks([next, old]), options);
    expect(await verify(before)).toEqual(claims);
    expect(await verify(after)).toEqual(claims);
    // Once the old key is dropped, its tokens stop verifying.
    await expect(createAccessTokenVerifier(publicJwks([next]), options)(before)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuse other audiences, issuers and expired tokens', async () => {
    const key = await generateSigningKey('k1');
    const verify = createAccessTokenVerifier(publicJwks([key]), options);
    for (const token of [
      await createAccessTokenIssuer([key], { ...options, audience: 'other' }).issue(claims),
      await createAccessTokenIssuer([key], { ...options, issuer: 'other' }).issue(claims),
      await createAccessTokenIssuer([key], { ...options, ttlSeconds: -1 }).issue(claims),
    ]) {
      await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });

  it('resolveSigningKeys parses ACCESS_TOKEN_KEYS or makes one ephemeral key, saying so', async () => {
    const key = await generateSigningKey('k9');
    expect((await resolveSigningKeys(JSON.stringify([key.privateJwk]))).map((k) => k.kid)).toEqual(['k9']);
    let warned = false;
    const ephemeral = await resolveSigningKeys(undefined, () => (warned = true));
    expect(warned).toBe(true);
    expect(ephemeral).toHaveLength(1);
  });
});

describe('the gateway credential carries the request origin', () => {
  it('round-trips client IP and a truncated User-Agent, and leaves them out when absent', async () => {
    const secret = 's'.repeat(64);
    const sign = createCredentialSigner({ secret, issuer: 'gateway' });
    const verify = createCredentialVerifier({ secret });
    const withOrigin = await verify(await sign({ kind: 'anonymous', tenantId: 'default', requestId: 'r1', clientIp: '10.1.2.3', userAgent: 'x'.repeat(1000) }));
    expect(withOrigin).toEqual({ kind: 'anonymous', tenantId: 'default', requestId: 'r1', clientIp: '10.1.2.3', userAgent: 'x'.repeat(MAX_USER_AGENT_LENGTH) });
    const bare = await verify(await sign({ kind: 'user', tenantId: 'default', requestId: 'r2', userId: 'u', roles: ['USER'], sessionId: 's' }));
    expect(bare).toEqual({ kind: 'user', tenantId: 'default', requestId: 'r2', userId: 'u', roles: ['USER'], sessionId: 's' });
  });

  it('round-trips the partner and key of a request made with an API key', async () => {
    const secret = 's'.repeat(64);
    const sign = createCredentialSigner({ secret, issuer: 'gateway' });
    const verify = createCredentialVerifier({ secret });
    const identity = { kind: 'user' as const, tenantId: 'default', requestId: 'r3', userId: 'acct', roles: ['USER' as const], sessionId: 'partner-key:k1', partner: { partnerId: 'p1', apiKeyId: 'k1' } };
    expect(await verify(await sign(identity))).toEqual(identity);
  });
});

describe('the gateway credential is refused unless it is ours and current', () => {
  const secret = 's'.repeat(64);
  const identity = { kind: 'user' as const, tenantId: 'default', requestId: 'r9', userId: 'u9', roles: ['USER' as const], sessionId: 's9' };
  const verify = createCredentialVerifier({ secret });
  const reasonOf = (token: string | undefined) => verify(token).then(() => 'accepted', (error: { reason?: string }) => error.reason);
  /** A credential made with jose over WebCrypto, the way the gateway signed them before fast-jwt (a rolling deploy mixes both). */
  async function joseCredential(claims: Record<string, unknown>, options: { secret?: string; audience?: string; expiresIn?: string; alg?: string } = {}) {
    const key = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(options.secret ?? secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).setIssuer('gateway').setAudience(options.audience ?? 'firefly-subgraphs').setIssuedAt().setSubject('u9');
    return jwt.setExpirationTime(options.expiresIn ?? '60s').sign(key);
  }
  const claims = { knd: 'user', tid: 'default', rid: 'r9', rol: ['USER'], sid: 's9' };

  it('an HS256 JWT for the subgraphs, 60 s by default; one made by the previous signer (jose) verifies the same', async () => {
    const token = await createCredentialSigner({ secret, issuer: 'gateway' })(identity);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({ iss: 'gateway', aud: 'firefly-subgraphs', sub: 'u9' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(await verify(await joseCredential(claims))).toEqual(identity);
  });

  it('another secret, another audience, a changed payload, no signature, or no token at all: invalid / missing', async () => {
    expect(await reasonOf(await joseCredential(claims, { secret: 'x'.repeat(64) }))).toBe('invalid');
    expect(await reasonOf(await createCredentialSigner({ secret: 'x'.repeat(64), issuer: 'gateway' })(identity))).toBe('invalid');
    expect(await reasonOf(await joseCredential(claims, { audience: 'firefly-api' }))).toBe('invalid');
    const [header, payload, signature] = (await createCredentialSigner({ secret, issuer: 'gateway' })(identity)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), rol: ['ADMIN'] })).toString('base64url');
    expect(await reasonOf(`${header}.${forged}.${signature}`)).toBe('invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(await reasonOf(`${none}.${payload}.`)).toBe('invalid');
    expect(await reasonOf(undefined)).toBe('missing');
  });

  it('an expired one: expired', async () => {
    expect(await reasonOf(await joseCredential(claims, { expiresIn: '-1s' }))).toBe('expired');
    const shortLived = createCredentialSigner({ secret, issuer: 'gateway', ttlSeconds: -5 });
    expect(await reasonOf(await shortLived(identity))).toBe('expired');
  });
});

describe('refresh tokens', () => {
  it('are opaque, 256-bit, prefixed, and stored as a 64-hex SHA-256', () => {
    const token = generateRefreshToken();
    expect(token).toMatch(/^ffr_[A-Za-z0-9_-]{43}$/);
    expect(isWellFormedRefreshToken(token)).toBe(true);
    expect(isWellFormedRefreshToken(`${token}x`)).toBe(false);
    expect(hashRefreshToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(generateRefreshToken()).not.toBe(token);
  });
});
