import { keyIdOf, type PiiCrypto } from '@firefly/crypto';
import { parseEmail, parsePhone } from '../domain/identifiers.ts';

/** The columns of a user's sealed email and phone and their blind indexes. */
export interface SealedContact {
  emailCiphertext: string | null;
  emailIndex: string | null;
  phoneCiphertext: string | null;
  phoneIndex: string | null;
}

/** What a User row stores about its email and phone: sealed (current) or clear (rows older than PII encryption). */
export interface StoredContact {
  id: string;
  tenantId: string;
  emailCiphertext: string | null;
  phoneCiphertext: string | null;
  /** Legacy clear value, until `npm run pii:encrypt` seals it. */
  email: string | null;
  /** Legacy clear value, until `npm run pii:encrypt` seals it. */
  phone: string | null;
}

/** Phones are stored as the 11 national digits; the blind index hashes E.164, the form that stays unambiguous. */
const toE164 = (phone: string) => `+86${phone}`;

/**
 * Users' emails and phones at rest: sealed per value with @firefly/crypto's envelope (the row and field are the
 * authenticated context, so a ciphertext moved to another row does not open) and found through blind indexes.
 * Values handed in are already normalized (identifiers.ts: emails lower-cased, phones as 11 digits).
 */
export function createUserPii(crypto: PiiCrypto) {
  const context = (tenantId: string, userId: string, field: 'email' | 'phone') => `user:${tenantId}:${userId}:${field}`;
  const emailIndex = (tenantId: string, email: string) => crypto.blindIndex(tenantId, 'email', email);
  const phoneIndex = (tenantId: string, phone: string) => crypto.blindIndex(tenantId, 'phone', toE164(phone));
  const seal = (tenantId: string, userId: string, contact: { email: string | null; phone: string | null }): SealedContact => {
    const { email, phone } = contact;
    return {
      emailCiphertext: email === null ? null : crypto.envelope.encrypt(email, context(tenantId, userId, 'email')),
      emailIndex: email === null ? null : emailIndex(tenantId, email),
      phoneCiphertext: phone === null ? null : crypto.envelope.encrypt(phone, context(tenantId, userId, 'phone')),
      phoneIndex: phone === null ? null : phoneIndex(tenantId, phone),
    };
  };

  return {
    emailIndex,
    phoneIndex,
    activeKeyId: crypto.envelope.activeKeyId,
    seal,
    /** The clear email and phone of a row: opened from the sealed columns, else the legacy clear ones. */
    open(row: StoredContact): { email: string | null; phone: string | null } {
      return {
        email: row.emailCiphertext !== null ? crypto.envelope.decrypt(row.emailCiphertext, context(row.tenantId, row.id, 'email')) : row.email,
        phone: row.phoneCiphertext !== null ? crypto.envelope.decrypt(row.phoneCiphertext, context(row.tenantId, row.id, 'phone')) : row.phone,
      };
    },
    /**
     * The sealed columns for a legacy row's clear values, normalized the way registration normalizes them (a value
     * that no longer parses — written by hand? — is sealed as stored, trimmed and, for emails, lower-cased).
     */
    sealLegacy(row: StoredContact): SealedContact {
      const email = row.email === null ? null : (parseEmail(row.email) ?? row.email.trim().toLowerCase());
      const phone = row.phone === null ? null : (parsePhone(row.phone) ?? row.phone.trim());
      return seal(row.tenantId, row.id, { email, phone });
    },
    /** True when a sealed column of the row names another key id than the active one. */
    needsRotation(row: Pick<StoredContact, 'emailCiphertext' | 'phoneCiphertext'>): boolean {
      return [row.emailCiphertext, row.phoneCiphertext].some((sealed) => sealed !== null && keyIdOf(sealed) !== crypto.envelope.activeKeyId);
    },
  };
}

export type UserPii = ReturnType<typeof createUserPii>;
