import { describe, expect, it } from 'vitest';
import { createAccessTokenIssuer, createAccessTokenVerifier, generateSigningKey, publicJwks } from '../access-token.ts';

const claims = { userId: 'u1', tenantId: 'default', sessionId: 's1', roles: ['USER' as const] };

describe('access token verification cache', () => {
  it('keeps answering for a verified token, and refuses it once it has expired', async () => {
    const key = await generateSigningKey('k1');
    const options = { issuer: 'firefly', audience: 'firefly-api' };
    const token = await createAccessTokenIssuer([key], { ...options, ttlSeconds: 1 }).issue(claims);
    const verify = createAccessTokenVerifier(publicJwks([key]), options);
    expect(await verify(token)).toEqual(claims);
    expect(await verify(token)).toEqual(claims);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('never caches a refusal: a tampered token stays refused, the genuine one still passes', async () => {
    const key = await generateSigningKey('k2');
    const options = { issuer: 'firefly', audience: 'firefly-api' };
    const token = await createAccessTokenIssuer([key], options).issue(claims);
    const verify = createAccessTokenVerifier(publicJwks([key]), { ...options, cacheSize: 1 });
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['ADMIN'] })).toString('base64url')}.${signature}`;
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await verify(token)).toEqual(claims);
  });
});
