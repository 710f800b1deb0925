import { createHash } from 'node:crypto';

/** Prisma's checksum of a migration: the sha256 of the file's bytes, as lower-case hex. */
export function computeChecksum(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether a recorded checksum still matches the file. Accepts what Prisma accepts, so a history written by
 * `prisma migrate` and one written by us agree: the file as it is, or with its line endings converted (a checkout
 * with `core.autocrlf` must not look like an edit), and the old Prisma rendering that dropped each byte's leading
 * zero.
 */
export function checksumMatches(bytes: Uint8Array, recorded: string): boolean {
  const text = Buffer.from(bytes).toString('utf8');
  const variants = [Buffer.from(bytes), Buffer.from(text.replaceAll('\r\n', '\n')), Buffer.from(text.replace(/\r?\n/g, '\r\n'))];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    return digest.toString('hex') === recorded || legacyHex(digest) === recorded;
  });
}

function legacyHex(digest: Buffer): string {
  return [...digest].map((byte) => byte.toString(16)).join('');
}
