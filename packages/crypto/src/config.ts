import { createHash } from 'node:crypto';
import { ConfigError, nodeEnv, parseConfig, z } from '@firefly/config';
import { createBlindIndex, type BlindIndex } from './blind-index.ts';
import { createEnvelope, KEY_ID_PATTERN, type Envelope } from './envelope.ts';

/*
 * DEVELOPMENT ONLY. Without PII_KEYS / PII_INDEX_KEY, a process that is not in production derives these keys from
 * public constants, so `npm start`, the tests and the operator CLIs (admin:grant, pii:encrypt) agree on a fresh
 * machine without any setup. Anyone can derive them: production refuses to start without real keys, and refuses
 * these ones if they are configured explicitly.
 */
export const DEV_PII_KEY_ID = 'dev';
const DEV_PII_KEY = createHash('sha256').update('firefly-development-only-pii-master-key-do-not-use').digest();
const DEV_PII_INDEX_KEY = createHash('sha256').update('firefly-development-only-pii-index-key-do-not-use').digest();

/** A key of PII_KEYS or PII_INDEX_KEY: 32 random bytes in base64 (`openssl rand -base64 32`). */
function decodeKey(value: string): Buffer | null {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : null;
}

/**
 * `kid1:base64key,kid2:base64key` → master keys by key id. Throws an Error naming the bad entry by its key id or
 * position — never a key.
 */
export function parsePiiKeys(value: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const keyId = colon > 0 ? entry.slice(0, colon).trim() : '';
      if (!KEY_ID_PATTERN.test(keyId)) throw new Error(`entry ${index + 1}: expected <key id>:<base64 key>, the key id of letters, digits, _ or - (at most 32)`);
      const key = decodeKey(entry.slice(colon + 1));
      if (!key) throw new Error(`key id ${keyId}: expected 32 bytes in base64 (openssl rand -base64 32)`);
      if (keys.has(keyId)) throw new Error(`key id ${keyId} is listed twice`);
      keys.set(keyId, key);
    });
  return keys;
}

const checked = (check: (value: string) => void) =>
  z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      if (value === '') return;
      try {
        check(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    });

/** Environment variables of personal-data encryption (merge into a process's config schema). */
export const piiShape = {
  /**
   * Master keys that wrap the data keys of phone numbers and emails: `kid:base64key` entries separated by commas,
   * each key 32 random bytes (`openssl rand -base64 32`). Keep every key id that still seals a stored value until a
   * rotation (`npm run pii:rotate`) reports none left. Required in production.
   */
  PII_KEYS: checked((value) => void parsePiiKeys(value)),
  /** The key id of PII_KEYS that seals new values. Optional when PII_KEYS has one key. */
  PII_ACTIVE_KEY_ID: z.string().default(''),
  /** HMAC key of the blind indexes that find users by phone or email: 32 random bytes in base64. Required in production. */
  PII_INDEX_KEY: checked((value) => {
    if (!decodeKey(value)) throw new Error('expected 32 bytes in base64 (openssl rand -base64 32)');
  }),
};

export interface PiiConfig {
  NODE_ENV: string;
  PII_KEYS: string;
  PII_ACTIVE_KEY_ID: string;
  PII_INDEX_KEY: string;
}

/** What makes this configuration unusable: missing keys in production, the development keys, an unknown active id. */
export function piiConfigProblems(config: PiiConfig): string[] {
  const problems: string[] = [];
  const production = config.NODE_ENV === 'production';
  let keys: Map<string, Buffer>;
  try {
    keys = parsePiiKeys(config.PII_KEYS);
  } catch {
    return problems; // already reported by the schema
  }
  if (keys.size === 0) {
    if (production) problems.push('PII_KEYS: must be set in production (kid:base64key entries; the development keys are public)');
    if (config.PII_ACTIVE_KEY_ID && config.PII_ACTIVE_KEY_ID !== DEV_PII_KEY_ID) problems.push('PII_ACTIVE_KEY_ID: set without PII_KEYS');
  } else if (config.PII_ACTIVE_KEY_ID ? !keys.has(config.PII_ACTIVE_KEY_ID) : keys.size > 1) {
    problems.push(config.PII_ACTIVE_KEY_ID ? `PII_ACTIVE_KEY_ID: ${config.PII_ACTIVE_KEY_ID} is not a key id of PII_KEYS` : 'PII_ACTIVE_KEY_ID: required when PII_KEYS has more than one key');
  }
  if (production && [...keys.values()].some((key) => key.equals(DEV_PII_KEY))) problems.push('PII_KEYS: the development key is public and refused in production');
  if (production && !config.PII_INDEX_KEY) problems.push('PII_INDEX_KEY: must be set in production (32 bytes in base64; the development key is public)');
  if (production && config.PII_INDEX_KEY && decodeKey(config.PII_INDEX_KEY)?.equals(DEV_PII_INDEX_KEY)) problems.push('PII_INDEX_KEY: the development key is public and refused in production');
  return problems;
}

export interface PiiCrypto {
  envelope: Envelope;
  blindIndex: BlindIndex;
  /** True when running on the public development keys (never in production). */
  developmentKeys: boolean;
}

/** The envelope and blind index of a configuration {@link piiConfigProblems} accepted. */
export function createPiiCrypto(config: PiiConfig): PiiCrypto {
  const problems = piiConfigProblems(config);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const configured = parsePiiKeys(config.PII_KEYS);
  const keys = configured.size > 0 ? configured : new Map([[DEV_PII_KEY_ID, DEV_PII_KEY]]);
  const activeKeyId = config.PII_ACTIVE_KEY_ID || [...keys.keys()][0]!;
  const indexKey = config.PII_INDEX_KEY ? decodeKey(config.PII_INDEX_KEY)! : DEV_PII_INDEX_KEY;
  return {
    envelope: createEnvelope({ activeKeyId, keys }),
    blindIndex: createBlindIndex(indexKey),
    developmentKeys: configured.size === 0 || !config.PII_INDEX_KEY,
  };
}

/**
 * The PII keys of an operator CLI (admin:grant, pii:encrypt, pii:rotate) from its environment: the same variables
 * and the same refusals as the user subgraph, so a CLI never seals under other keys than the service reads with.
 */
export function piiCryptoFromEnv(env: Record<string, string | undefined> = process.env): PiiCrypto {
  const config = parseConfig(z.object({ NODE_ENV: nodeEnv, ...piiShape }), env);
  const problems = piiConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return createPiiCrypto(config);
}
