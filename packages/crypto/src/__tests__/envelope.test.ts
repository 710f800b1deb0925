import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBlindIndex, createEnvelope, createPiiCrypto, keyIdOf, parsePiiKeys, piiConfigProblems, PiiDecryptionError } from '../index.ts';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const CONTEXT = 'user:default:u1:email';

describe('PII envelope', () => {
  it('opens what it sealed, names the key id, and never shows the value', () => {
    const envelope = createEnvelope({ activeKeyId: 'k1', keys: new Map([['k1', k1]]) });
    const sealed = envelope.encrypt('alice@example.com', CONTEXT);
    expect(sealed).toMatch(/^p1\.k1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('alice');
    expect(keyIdOf(sealed)).toBe('k1');
    // A fresh data key and nonce each time.
    expect(envelope.encrypt('alice@example.com', CONTEXT)).not.toBe(sealed);
    expect(envelope.decrypt(sealed, CONTEXT)).toBe('alice@example.com');
    expect(envelope.needsRotation(sealed)).toBe(false);
  });

  it('refuses another context, an altered value, an unknown key id and garbage — with errors that carry no value', () => {
    const envelope = createEnvelope({ activeKeyId: 'k1', keys: new Map([['k1', k1]]) });
    const sealed = envelope.encrypt('13800000000', 'user:default:u1:phone');
    const failures: unknown[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        failures.push(error);
      }
    };
    attempt(() => envelope.decrypt(sealed, 'user:default:u2:phone'));
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[14] = flipped[14]! ^ 1;
    attempt(() => envelope.decrypt([...parts.slice(0, 3), flipped.toString('base64url')].join('.'), 'user:default:u1:phone'));
    attempt(() => createEnvelope({ activeKeyId: 'k2', keys: new Map([['k2', k2]]) }).decrypt(sealed, 'user:default:u1:phone'));
    attempt(() => createEnvelope({ activeKeyId: 'k1', keys: new Map([['k1', k2]]) }).decrypt(sealed, 'user:default:u1:phone'));
    attempt(() => envelope.decrypt('13800000000', 'user:default:u1:phone'));
    expect(failures).toHaveLength(5);
    for (const error of failures) {
      expect(error).toBeInstanceOf(PiiDecryptionError);
      expect(String((error as Error).message)).not.toMatch(/138|0000/);
    }
    expect((failures[2] as Error).message).toBe('PII key id k1 is not configured (PII_KEYS)');
  });

  it('during a rotation: old key ids still open, new values use the active one', () => {
    const before = createEnvelope({ activeKeyId: 'k1', keys: new Map([['k1', k1]]) });
    const old = before.encrypt('bob@example.com', CONTEXT);
    const during = createEnvelope({ activeKeyId: 'k2', keys: new Map([['k1', k1], ['k2', k2]]) });
    expect(during.needsRotation(old)).toBe(true);
    expect(during.decrypt(old, CONTEXT)).toBe('bob@example.com');
    const fresh = during.encrypt(during.decrypt(old, CONTEXT), CONTEXT);
    expect(keyIdOf(fresh)).toBe('k2');
    expect(during.needsRotation(fresh)).toBe(false);
    expect(createEnvelope({ activeKeyId: 'k2', keys: new Map([['k2', k2]]) }).decrypt(fresh, CONTEXT)).toBe('bob@example.com');
  });
});

describe('blind index', () => {
  it('is equal for equal inputs, differs by key, kind and tenant, and is 64 hex characters', () => {
    const index = createBlindIndex(k1);
    const digest = index('default', 'email', 'a@example.com');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(index('default', 'email', 'a@example.com')).toBe(digest);
    expect(index('other', 'email', 'a@example.com')).not.toBe(digest);
    expect(index('default', 'phone', 'a@example.com')).not.toBe(digest);
    expect(createBlindIndex(k2)('default', 'email', 'a@example.com')).not.toBe(digest);
  });
});

describe('PII configuration', () => {
  const b64 = (key: Buffer) => key.toString('base64');
  const base = { NODE_ENV: 'production', PII_KEYS: `k1:${b64(k1)},k2:${b64(k2)}`, PII_ACTIVE_KEY_ID: 'k2', PII_INDEX_KEY: b64(randomBytes(32)) };

  it('parses kid:key lists and names a bad entry without its key', () => {
    expect([...parsePiiKeys(`a:${b64(k1)}, b:${k2.toString('base64url')}`).keys()]).toEqual(['a', 'b']);
    expect(() => parsePiiKeys(`a:${b64(randomBytes(16))}`)).toThrow('key id a: expected 32 bytes');
    expect(() => parsePiiKeys(`a.b:${b64(k1)}`)).toThrow('entry 1');
    expect(() => parsePiiKeys(`a:${b64(k1)},a:${b64(k2)}`)).toThrow('listed twice');
  });

  it('production needs real keys and a known active id; development falls back to the public dev keys', () => {
    expect(piiConfigProblems(base)).toEqual([]);
    expect(piiConfigProblems({ ...base, PII_KEYS: '', PII_ACTIVE_KEY_ID: '', PII_INDEX_KEY: '' })).toEqual([
      expect.stringMatching(/^PII_KEYS: must be set in production/),
      expect.stringMatching(/^PII_INDEX_KEY: must be set in production/),
    ]);
    expect(piiConfigProblems({ ...base, PII_ACTIVE_KEY_ID: 'k3' })).toEqual(['PII_ACTIVE_KEY_ID: k3 is not a key id of PII_KEYS']);
    expect(piiConfigProblems({ ...base, PII_ACTIVE_KEY_ID: '' })).toEqual(['PII_ACTIVE_KEY_ID: required when PII_KEYS has more than one key']);
    const dev = createPiiCrypto({ NODE_ENV: 'development', PII_KEYS: '', PII_ACTIVE_KEY_ID: '', PII_INDEX_KEY: '' });
    expect(dev.developmentKeys).toBe(true);
    expect(dev.envelope.activeKeyId).toBe('dev');
    expect(createPiiCrypto(base).developmentKeys).toBe(false);
    expect(createPiiCrypto(base).envelope.activeKeyId).toBe('k2');
  });
});
