import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals secrets we must be able to read back (a partner key's request-signing secret: the gateway needs it to verify
 * HMAC signatures), so that a database dump reveals none of them: AES-256-GCM under a key derived from
 * INTERNAL_TOKEN_SECRET for this purpose alone. Sealed form: `v1.<iv>.<tag>.<ciphertext>` (base64url parts).
 * Rotating INTERNAL_TOKEN_SECRET makes sealed secrets unreadable: keys that sign must then be issued again
 * (docs/operations.md, "Key rotation").
 */
export function createSecretBox(secret: string, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, 'firefly-user', `secret-box:${purpose}`, 32));
  return {
    seal(plaintext: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },
    /** The plaintext; throws when the sealed value was altered or sealed under another key. */
    open(sealed: string): string {
      const [version, iv, tag, ciphertext] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
