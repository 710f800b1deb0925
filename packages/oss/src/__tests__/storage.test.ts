import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOssSimulator, type OssSimulator } from '@firefly/oss-simulator';
import { createObjectStorage, ossProductionProblems, resolveOssTarget, type OssTarget } from '../index.ts';

let sim: OssSimulator;
let target: OssTarget;

beforeAll(async () => {
  sim = await startOssSimulator();
  target = resolveOssTarget({
    OSS_REGION: 'oss-cn-hangzhou',
    OSS_BUCKET: 'firefly-dev',
    OSS_ENDPOINT: sim.localUrl,
    OSS_PUBLIC_ENDPOINT: undefined,
    OSS_PATH_STYLE: false,
    OSS_ACCESS_KEY_ID: undefined,
    OSS_ACCESS_KEY_SECRET: undefined,
    OSS_STS_TOKEN: undefined,
    OSS_SIGNED_URL_TTL_SECONDS: 60,
    OSS_CDN_BASE_URL: undefined,
    OSS_TIMEOUT_MS: 5_000,
  });
});
afterAll(() => sim.close());

describe('object storage through ali-oss', () => {
  it('without an AccessKey targets the simulator, path-style, and production refuses that', () => {
    expect(target).toMatchObject({ mode: 'simulator', pathStyle: true, accessKeyId: 'sim-access-key-id' });
    expect(ossProductionProblems({ OSS_ACCESS_KEY_ID: undefined } as never)).toEqual([expect.stringContaining('OSS_ACCESS_KEY_ID')]);
    expect(ossProductionProblems({ OSS_ACCESS_KEY_ID: 'LTAI', OSS_ACCESS_KEY_SECRET: 'x' } as never)).toEqual([]);
  });

  it('stores, describes, reads, signs and deletes an object', async () => {
    const storage = createObjectStorage(target);
    const body = Buffer.from('not really a png');
    await storage.put('t/u/j/0.png', body, 'image/png');
    expect(await storage.head('t/u/j/0.png')).toEqual({ contentType: 'image/png', byteSize: body.length });
    expect(await storage.get('t/u/j/0.png')).toEqual(body);
    const url = storage.publicUrl('t/u/j/0.png');
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    await storage.delete('t/u/j/0.png');
    await storage.delete('t/u/j/0.png');
    expect(await storage.head('t/u/j/0.png')).toBeNull();
    expect(await storage.get('t/u/j/0.png')).toBeNull();
    expect((await fetch(url)).status).toBe(404);
  });

  it('signs client URLs for the public endpoint while calling the configured one', async () => {
    const storage = createObjectStorage({ ...target, endpoint: sim.url.replace('127.0.0.1', '127.0.0.2'), publicEndpoint: sim.localUrl });
    await createObjectStorage(target).put('p.png', Buffer.from('p'), 'image/png');
    const url = storage.publicUrl('p.png');
    expect(url.startsWith(`${sim.localUrl}/firefly-dev/p.png?`)).toBe(true);
    expect((await fetch(url)).status).toBe(200);
  });

  it('answers CDN URLs when a CDN base is configured', () => {
    const storage = createObjectStorage({ ...target, cdnBaseUrl: 'https://img.example.com' });
    expect(storage.publicUrl('t/u/j/0 1.png')).toBe('https://img.example.com/t/u/j/0%201.png');
  });
});
