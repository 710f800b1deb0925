import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../domain/secret-box.ts';

const SECRET = 'x'.repeat(40);

describe('secret box', () => {
  it('opens what it sealed, and seals the same secret differently each time', () => {
    const box = createSecretBox(SECRET, 'partner-signing-secret');
    const sealed = box.seal('s3cret-value');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('s3cret-value');
    expect(box.seal('s3cret-value')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('s3cret-value');
  });

  it('refuses an altered value, another purpose and another INTERNAL_TOKEN_SECRET', () => {
    const sealed = createSecretBox(SECRET, 'partner-signing-secret').seal('s3cret-value');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => createSecretBox(SECRET, 'partner-signing-secret').open([...parts.slice(0, 3), flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => createSecretBox(SECRET, 'another-purpose').open(sealed)).toThrow();
    expect(() => createSecretBox('y'.repeat(40), 'partner-signing-secret').open(sealed)).toThrow();
    expect(() => createSecretBox(SECRET, 'partner-signing-secret').open('not sealed')).toThrow('not a sealed secret');
  });
});
