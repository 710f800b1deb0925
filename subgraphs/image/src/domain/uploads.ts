import { randomUUID } from 'node:crypto';
import { badUserInput } from '@firefly/errors';
import type { ImageServices } from '../services.ts';

/** The image types a client may upload, with the extension their key gets. */
const UPLOAD_TYPES: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/**
 * A signed PUT for one upload, bound by OSS's V4 signature to the declared content type and exact byte length.
 * The key lives under uploads/<tenant>/<user>/, so whose upload it is can be told from the key alone.
 */
export async function createUploadTicket(
  services: Pick<ImageServices, 'storage' | 'uploads'>,
  owner: { tenantId: string; userId: string },
  args: { contentType: string; byteSize: number },
) {
  const contentType = args.contentType.trim().toLowerCase();
  const extension = UPLOAD_TYPES[contentType];
  if (!extension) throw badUserInput(`contentType must be one of ${Object.keys(UPLOAD_TYPES).join(', ')}`, { field: 'contentType' });
  const { maxBytes, ttlSeconds } = services.uploads;
  if (!Number.isInteger(args.byteSize) || args.byteSize < 1 || args.byteSize > maxBytes) {
    throw badUserInput(`byteSize must be a whole number from 1 to ${maxBytes}`, { field: 'byteSize', maxBytes });
  }
  const key = `uploads/${owner.tenantId}/${owner.userId}/${randomUUID()}.${extension}`;
  const grant = await services.storage.uploadGrant(key, contentType, args.byteSize, ttlSeconds);
  return { ...grant, key };
}
