import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_INTERNAL_TOKEN_SECRET, accessTokenShape, commonShape, databaseShape, parseConfig, port, refuseDevelopmentDefaults, z } from '../index.ts';

const schema = z.object({ ...commonShape, ...databaseShape, APP_PORT: port(4000) });

describe('parseConfig', () => {
  it('fills defaults and freezes the result', () => {
    const config = parseConfig(schema, {});
    expect(config.APP_PORT).toBe(4000);
    expect(config.DATABASE_URL).toBe('mysql://root@127.0.0.1:3306/firefly');
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { APP_PORT: number }).APP_PORT = 1;
    }).toThrow(TypeError);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig(schema, { APP_PORT: '  ' }).APP_PORT).toBe(4000);
  });

  it('names every bad variable and the expected form, never the value', () => {
    let error: unknown;
    try {
      parseConfig(schema, { APP_PORT: 'eighty', DATABASE_URL: 'postgres://secret-password@db/x', NODE_ENV: 'staging' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('APP_PORT: expected a TCP port number');
    expect(message).toContain('DATABASE_URL: expected a URL starting with mysql:// or mariadb://');
    expect(message).toContain('NODE_ENV: expected development, test or production');
    expect(message).not.toContain('secret-password');
  });
});

describe('refuseDevelopmentDefaults', () => {
  it('refuses the public development secret in production only', () => {
    const dev = parseConfig(schema, {});
    expect(dev.INTERNAL_TOKEN_SECRET).toBe(DEV_INTERNAL_TOKEN_SECRET);
    expect(() => refuseDevelopmentDefaults(dev)).not.toThrow();
    const prod = parseConfig(schema, { NODE_ENV: 'production' });
    expect(() => refuseDevelopmentDefaults(prod)).toThrow(/INTERNAL_TOKEN_SECRET: must be set/);
    const configured = parseConfig(schema, { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 'a'.repeat(40) });
    expect(() => refuseDevelopmentDefaults(configured)).not.toThrow();
  });

  it('refuses a production process that signs or verifies access tokens without ACCESS_TOKEN_KEYS', () => {
    const withTokens = z.object({ ...commonShape, ...accessTokenShape });
    const secret = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 'a'.repeat(40) };
    expect(() => refuseDevelopmentDefaults(parseConfig(withTokens, secret))).toThrow(/ACCESS_TOKEN_KEYS: must be set in production/);
    expect(() => refuseDevelopmentDefaults(parseConfig(withTokens, { ...secret, ACCESS_TOKEN_KEYS: '[{"kid":"k"}]' }))).not.toThrow();
  });
});
