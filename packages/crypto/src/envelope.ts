import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/*
 * Envelope encryption of personal data (hand-written on node:crypto: the maintained field-encryption libraries for
 * Prisma — prisma-field-encryption over @47ng/cloak — have had no release since 2024, predate Prisma 7's driver
 * adapters, use one key per field instead of a wrapped data key, and index with a salted SHA-256 rather than an
 * HMAC; docs/operations.md, "Personal data encryption").
 *
 * Every value gets its own random 256-bit data key (DEK). The value is sealed with AES-256-GCM under the DEK, with the
 * caller's context (which row and field it belongs to) as additional authenticated data, so a ciphertext copied to
 * another row or field does not open. The DEK is sealed ("wrapped") with AES-256-GCM under a master key from the
 * configuration, named by its key id, which the sealed form carries:
 *
 *   p1.<kid>.<wrapped DEK: iv | ciphertext | tag, base64url>.<value: iv | ciphertext | tag, base64url>
 *
 * A data key per value rather than per tenant: no key table to create, cache and keep consistent across replicas,
 * no race on a tenant's first write, and random 96-bit GCM nonces never approach their per-key limit. The price is
 * one extra AES-GCM operation (unwrapping 32 bytes) per value read — microseconds.
 */

const VERSION = 'p1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Key ids: letters, digits, `_` and `-` (they are one part of the dotted sealed form). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Master keys by key id, and the one new values are sealed under. */
export interface PiiKeyring {
  activeKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/**
 * A sealed value could not be opened: malformed, altered, sealed for another context, or under a key id this
 * process does not have. The message names the key id at most — never the value, the key or the context.
 */
export class PiiDecryptionError extends Error {
  constructor(
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
    this.name = 'PiiDecryptionError';
  }
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new PiiDecryptionError('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

const wrapAad = (keyId: string) => `firefly-pii-dek.${VERSION}.${keyId}`;
const valueAad = (context: string) => `firefly-pii.${VERSION}.${context}`;

/** The key id a sealed value names, or null when it is not a sealed value. */
export function keyIdOf(sealed: string): string | null {
  const [version, keyId] = sealed.split('.', 2);
  return version === VERSION && keyId !== undefined && KEY_ID_PATTERN.test(keyId) ? keyId : null;
}

export function createEnvelope(keyring: PiiKeyring) {
  const activeKey = keyring.keys.get(keyring.activeKeyId);
  if (!activeKey) throw new Error(`the active PII key id ${keyring.activeKeyId} is not among the configured keys`);
  for (const [keyId, key] of keyring.keys) {
    if (!KEY_ID_PATTERN.test(keyId)) throw new Error(`PII key id ${JSON.stringify(keyId)}: expected letters, digits, _ or - (at most 32)`);
    if (key.length !== KEY_BYTES) throw new Error(`PII key ${keyId}: expected ${KEY_BYTES} bytes`);
  }

  return {
    activeKeyId: keyring.activeKeyId,
    /** Seals `plaintext` for `context` (e.g. `user:<tenant>:<id>:email`) under a fresh data key and the active master key. */
    encrypt(plaintext: string, context: string): string {
      const dek = randomBytes(KEY_BYTES);
      try {
        const wrapped = seal(activeKey, dek, wrapAad(keyring.activeKeyId));
        const value = seal(dek, Buffer.from(plaintext, 'utf8'), valueAad(context));
        return [VERSION, keyring.activeKeyId, wrapped.toString('base64url'), value.toString('base64url')].join('.');
      } finally {
        dek.fill(0);
      }
    },
    /** The plaintext; throws {@link PiiDecryptionError} when the value cannot be opened for this context. */
    decrypt(sealed: string, context: string): string {
      const parts = sealed.split('.');
      const keyId = keyIdOf(sealed);
      if (parts.length !== 4 || keyId === null) throw new PiiDecryptionError('not a sealed PII value');
      const master = keyring.keys.get(keyId);
      if (!master) throw new PiiDecryptionError(`PII key id ${keyId} is not configured (PII_KEYS)`, keyId);
      let dek: Buffer | undefined;
      try {
        dek = open(master, Buffer.from(parts[2]!, 'base64url'), wrapAad(keyId));
        if (dek.length !== KEY_BYTES) throw new PiiDecryptionError('bad data key length', keyId);
        return open(dek, Buffer.from(parts[3]!, 'base64url'), valueAad(context)).toString('utf8');
      } catch (error) {
        if (error instanceof PiiDecryptionError) throw error;
        // Node's "Unsupported state or unable to authenticate data": altered, another context or another key.
        throw new PiiDecryptionError(`a PII value sealed under key id ${keyId} failed authentication`, keyId);
      } finally {
        dek?.fill(0);
      }
    },
    /** True when the value is sealed under another key id than the active one (the rotation's work list). */
    needsRotation(sealed: string): boolean {
      return keyIdOf(sealed) !== keyring.activeKeyId;
    },
  };
}

export type Envelope = ReturnType<typeof createEnvelope>;
