// @firefly/crypto: encryption of personal data at rest — AES-256-GCM envelopes under configured master keys with
// key ids (rotation), HMAC blind indexes for exact-match lookups, and their configuration.
export { createEnvelope, keyIdOf, PiiDecryptionError } from './envelope.ts';
export type { Envelope, PiiKeyring } from './envelope.ts';
export { createBlindIndex } from './blind-index.ts';
export type { BlindIndex } from './blind-index.ts';
export { createPiiCrypto, DEV_PII_KEY_ID, parsePiiKeys, piiConfigProblems, piiCryptoFromEnv, piiShape } from './config.ts';
export type { PiiConfig, PiiCrypto } from './config.ts';
