import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData) >>> 0);
  return Buffer.concat([length, typeAndData, crc]);
}

function colourFrom(hash: number, shift: number): [number, number, number] {
  const h = (hash >>> shift) & 0xffffff;
  // Keep channels in a mid range so gradients stay visible on light and dark pages.
  return [64 + ((h >>> 16) & 0x7f), 64 + ((h >>> 8) & 0x7f), 64 + (h & 0x7f)];
}

function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * A real RGB PNG of the requested size: a two-colour gradient chosen by `key`, so different prompts/seeds/slots give
 * different images. Each row uses PNG filter 1 (Sub) with a constant step, so even 1440×1440 deflates to tens of KB.
 */
export function renderPlaceholderPng(width: number, height: number, key: string): Buffer {
  const hash = hashKey(key);
  const [r0, g0, b0] = colourFrom(hash, 0);
  const [r1, g1, b1] = colourFrom(Math.imul(hash, 0x9e3779b1) >>> 0, 3);
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  // Half the colour distance across the width, so vertical + horizontal drift never wraps past 0 or 255.
  const stepR = Math.round(((r1 - r0) * 128) / Math.max(1, width));
  // A gentle horizontal drift in red (one step every few pixels) keeps the image from being a flat band. It is the
  // same in every row, so it is written once and copied: the simulator renders one image per result, on the cores of
  // the services a benchmark measures (4 ms of a 1024×1024 image went into this loop, per pixel per row).
  const drift = Buffer.alloc(Math.max(0, width - 1) * 3);
  for (let x = 1; x < width; x++) drift[(x - 1) * 3] = ((stepR * x) >> 8) - ((stepR * (x - 1)) >> 8);
  for (let y = 0; y < height; y++) {
    const t = height <= 1 ? 0 : y / (height - 1);
    const row = y * stride;
    raw[row] = 1; // filter: Sub — each byte stored as the difference to the pixel on its left
    raw[row + 1] = Math.round(r0 + (r1 - r0) * t) & 0xff;
    raw[row + 2] = Math.round(g0 + (g1 - g0) * t) & 0xff;
    raw[row + 3] = Math.round(b0 + (b1 - b0) * t) & 0xff;
    drift.copy(raw, row + 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  header[10] = 0;
  header[11] = 0;
  header[12] = 0;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    // Level 1: ~4× less CPU than level 9 on these rows (a 1024×1024 image took 200–600 ms on a loaded machine at 9),
    // for a few tens of KB instead of a few; the simulator renders one per result, often in a test's own process.
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Width and height from a PNG's IHDR (used by tests and handy for callers re-hosting images). */
export function readPngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const buffer = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(SIGNATURE) || buffer.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}
