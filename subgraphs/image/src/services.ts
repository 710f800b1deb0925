import type { ImageConfig } from './config.ts';
import type { ImageDeps } from './server.ts';

/** The image subgraph's process-wide services, built once per server and shared by every request. */
export interface ImageServices {
  /** Base URL under which stored images are served. */
  publicBaseUrl: string;
}

export function createImageServices(config: ImageConfig, _deps: ImageDeps): ImageServices {
  return { publicBaseUrl: config.IMAGE_PUBLIC_BASE_URL };
}
