import { imageSize } from 'image-size';

const CONTENT_TYPES: Record<string, { contentType: string; extension: string }> = {
  png: { contentType: 'image/png', extension: 'png' },
  jpg: { contentType: 'image/jpeg', extension: 'jpg' },
  webp: { contentType: 'image/webp', extension: 'webp' },
  gif: { contentType: 'image/gif', extension: 'gif' },
};

export interface ImageFacts {
  width: number;
  height: number;
  contentType: string;
  extension: string;
}

/** Type and dimensions read from the bytes themselves (never from a header or a file name); null if not an image we keep. */
export function readImageFacts(bytes: Buffer): ImageFacts | null {
  try {
    const size = imageSize(bytes);
    const kind = size.type ? CONTENT_TYPES[size.type] : undefined;
    if (!kind || !size.width || !size.height) return null;
    return { width: size.width, height: size.height, ...kind };
  } catch {
    return null;
  }
}
