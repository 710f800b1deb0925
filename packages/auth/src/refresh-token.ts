import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are opaque: 32 random bytes (256 bits) behind a recognisable prefix, so a leaked one is easy to
 * spot in a secret scanner. Only their SHA-256 is stored (Session.refreshTokenHash); a plain hash is enough
 * because the token has full entropy — nothing to brute-force, unlike a password.
 */
export const REFRESH_TOKEN_PREFIX = 'ffr_';

const TOKEN_PATTERN = /^ffr_[A-Za-z0-9_-]{43}$/;

export function generateRefreshToken(): string {
  return `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Hex SHA-256 (64 characters) of a refresh token, as stored and looked up. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before any lookup: a malformed token is refused without touching a database. */
export function isWellFormedRefreshToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}
