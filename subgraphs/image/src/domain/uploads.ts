import { randomUUID } from 'node:crypto';
import { badUserInput } from '@firefly/errors';
import { readImageFacts } from '@firefly/image-jobs';
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

const UPLOAD_KEY = /^uploads\/([^/]+)\/([^/]+)\/[0-9a-f-]{36}\.(png|jpg|webp)$/;

/**
 * An upload named as a job's reference image, checked before anything is charged: the key is one createUploadUrl
 * makes for this caller (uploads/<tenant>/<user>/…), the object exists, and its bytes — read, never trusted from a
 * header — are a PNG, JPEG or WebP image of the type its key declares, within the upload limit. Someone else's key
 * and a missing object get the same answer. BAD_USER_INPUT naming referenceImageKey otherwise.
 */
export async function checkReferenceImage(
  services: Pick<ImageServices, 'storage' | 'uploads'>,
  owner: { tenantId: string; userId: string },
  key: string,
): Promise<string> {
  const field = { field: 'referenceImageKey' };
  const match = UPLOAD_KEY.exec(key);
  if (!match || match[1] !== owner.tenantId || match[2] !== owner.userId) throw badUserInput('referenceImageKey is not one of your uploads', field);
  const info = await services.storage.head(key);
  if (!info) throw badUserInput('referenceImageKey is not one of your uploads (nothing was uploaded under it)', field);
  if (info.byteSize > services.uploads.maxBytes) throw badUserInput(`The reference image is larger than ${services.uploads.maxBytes} bytes`, field);
  const bytes = await services.storage.get(key);
  if (!bytes) throw badUserInput('referenceImageKey is not one of your uploads (nothing was uploaded under it)', field);
  const facts = readImageFacts(bytes);
  if (!facts || facts.extension !== match[3]) throw badUserInput(`The reference image is not the ${UPLOAD_TYPE_NAMES[match[3]!]} image it was uploaded as`, field);
  return key;
}

const UPLOAD_TYPE_NAMES: Record<string, string> = { png: 'PNG', jpg: 'JPEG', webp: 'WebP' };
