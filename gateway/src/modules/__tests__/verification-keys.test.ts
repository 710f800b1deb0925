import { describe, expect, it } from 'vitest';
import { generateSigningKey, publicJwks } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import { loadVerificationKeys } from '../auth.ts';
import { loadGatewayConfig } from '../../config.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('the keys the gateway verifies access tokens with', () => {
  it('can be public keys only, so the gateway holds no signing material in production', async () => {
    const key = await generateSigningKey('2026-12');
    const publicKeys = JSON.stringify(publicJwks([key]).keys);
    const config = loadGatewayConfig({ NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 's'.repeat(48), ACCESS_TOKEN_PUBLIC_KEYS: publicKeys });
    const jwks = await loadVerificationKeys(config, logger);
    expect(jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: key.privateJwk.x, kid: '2026-12', alg: 'EdDSA', use: 'sig' }]);
  });

  it('refuses a private key given as a public one', async () => {
    const key = await generateSigningKey('leaky');
    await expect(loadVerificationKeys({ ACCESS_TOKEN_PUBLIC_KEYS: JSON.stringify([key.privateJwk]), ACCESS_TOKEN_KEYS: '' }, logger)).rejects.toThrow(/private key/);
  });

  it('refuses to start in production with neither public nor private keys', () => {
    expect(() => loadGatewayConfig({ NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 's'.repeat(48) })).toThrow(/ACCESS_TOKEN_KEYS/);
  });
});
