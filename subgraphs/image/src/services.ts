import { createObjectStorage, type ObjectStorage } from '@firefly/oss';
import type { ImageConfig } from './config.ts';
import type { ImageDeps } from './server.ts';

/** The image subgraph's process-wide services, built once per server and shared by every request. */
export interface ImageServices {
  /** The images bucket (signed URLs, uploads, deletions). */
  storage: ObjectStorage;
  uploads: { maxBytes: number; ttlSeconds: number };
}

export function createImageServices(config: ImageConfig, _deps: ImageDeps): ImageServices {
  return {
    storage: createObjectStorage(config.oss),
    uploads: { maxBytes: config.UPLOAD_MAX_BYTES, ttlSeconds: config.UPLOAD_URL_TTL_SECONDS },
  };
}
