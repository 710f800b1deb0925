import { describe, expect, it } from 'vitest';
import { generatePartnerKey, partnerKeyMatches, partnerKeyPrefixOf } from '../partner-keys.ts';

describe('partner keys', () => {
  it('have a visible prefix and match only themselves', () => {
    const { key, prefix, keyHash } = generatePartnerKey();
    expect(partnerKeyPrefixOf(key)).toBe(prefix);
    expect(prefix).toHaveLength(16);
    expect(partnerKeyMatches(key, keyHash)).toBe(true);
    const other = generatePartnerKey();
    expect(partnerKeyMatches(other.key, keyHash)).toBe(false);
    // Same prefix, different rest: still no match.
    expect(partnerKeyMatches(prefix + other.key.slice(16), keyHash)).toBe(false);
    expect(partnerKeyMatches(key, 'not-hex')).toBe(false);
  });

  it('anything not shaped like a key has no prefix', () => {
    for (const value of ['', 'ffk_short', `Bearer ${generatePartnerKey().key}`, `${generatePartnerKey().key}x`, `ffk_${'!'.repeat(48)}`]) {
      expect(partnerKeyPrefixOf(value)).toBeNull();
    }
  });
});
