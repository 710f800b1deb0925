import OSS from 'ali-oss';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOssSimulator, type OssSimulator } from '../index.ts';

let sim: OssSimulator;

beforeAll(async () => {
  sim = await startOssSimulator({ buckets: ['firefly-test', 'other-bucket'], stsTokens: ['sts-ok'] });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const client = (extra: Partial<OSS.Options> & Record<string, unknown> = {}) =>
  new OSS({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret, bucket: 'firefly-test', endpoint: sim.url, ...extra });

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('OSS simulator with the real ali-oss client', () => {
  it('puts, heads, gets and deletes an object with V1 header signatures (bucket in the Host header)', async () => {
    const oss = client();
    await oss.put('tenant/user/job/0.png', png, { headers: { 'Content-Type': 'image/png' }, meta: { owner: 'u1' } as never });
    const head = await oss.head('tenant/user/job/0.png');
    expect(head.res.headers).toMatchObject({ 'content-type': 'image/png', 'content-length': String(png.length), 'x-oss-meta-owner': 'u1' });
    expect((await oss.get('tenant/user/job/0.png')).content).toEqual(png);
    await oss.delete('tenant/user/job/0.png');
    await expect(oss.get('tenant/user/job/0.png')).rejects.toMatchObject({ code: 'NoSuchKey', status: 404 });
    await expect(oss.head('tenant/user/job/0.png')).rejects.toMatchObject({ status: 404 });
    expect(sim.requests().every((r) => r.auth === 'v1-header' && r.bucket === 'firefly-test')).toBe(true);
  });

  it('serves path-style and V4 header signatures, and STS tokens', async () => {
    const oss = client({ endpoint: sim.localUrl, sldEnable: true, authorizationV4: true, region: 'oss-cn-beijing' });
    await oss.put('a/b c.txt', Buffer.from('hello'));
    expect((await oss.get('a/b c.txt')).content.toString()).toBe('hello');
    expect(sim.requests().map((r) => [r.auth, r.bucket, r.key])).toEqual([
      ['v4-header', 'firefly-test', 'a/b c.txt'],
      ['v4-header', 'firefly-test', 'a/b c.txt'],
    ]);
    const sts = client({ stsToken: 'sts-ok' });
    await sts.put('x.txt', Buffer.from('x'));
    const badSts = client({ stsToken: 'sts-forged' });
    await expect(badSts.get('x.txt')).rejects.toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
  });

  it('refuses a wrong secret, an unknown key id, an anonymous request and an unknown bucket', async () => {
    await client().put('k.txt', Buffer.from('k'));
    await expect(client({ accessKeySecret: 'wrong' }).get('k.txt')).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    await expect(client({ accessKeyId: 'real-looking-key' }).get('k.txt')).rejects.toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    expect(sim.requests().some((r) => r.accessKeyId === 'real-looking-key')).toBe(false);
    const anonymous = await fetch(`${sim.localUrl}/firefly-test/k.txt`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
    await expect(client({ bucket: 'no-such-bucket' }).get('k.txt')).rejects.toMatchObject({ code: 'NoSuchBucket', status: 404 });
  });

  it('serves V1 signed GET URLs until they expire, with response header overrides', async () => {
    const oss = client({ endpoint: sim.localUrl, sldEnable: true });
    await oss.put('img/1.png', png, { headers: { 'Content-Type': 'image/png' } });
    const url = oss.signatureUrl('img/1.png', { expires: 60, response: { 'content-disposition': 'attachment' } });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect(ok.headers.get('content-disposition')).toBe('attachment');
    expect(Buffer.from(await ok.arrayBuffer())).toEqual(png);
    const ranged = await fetch(url, { headers: { range: 'bytes=0-3' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(png.subarray(0, 4));
    // Tampering with the signed parameters breaks the signature.
    expect((await fetch(url.replace('attachment', 'inline'))).status).toBe(403);
    sim.advanceClock(61_000);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired.');
  });

  it('accepts a V4 signed PUT only with the signed content type and length', async () => {
    const oss = client({ endpoint: sim.localUrl, sldEnable: true, region: 'oss-cn-hangzhou' });
    const body = Buffer.alloc(100, 7);
    const url = await oss.signatureUrlV4('PUT', 300, { headers: { 'content-type': 'image/jpeg', 'content-length': '100' } }, 'up/1.jpg', ['content-length']);
    const wrongType = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'image/png' } });
    expect(wrongType.status).toBe(403);
    const wrongSize = await fetch(url, { method: 'PUT', body: Buffer.alloc(101, 7), headers: { 'content-type': 'image/jpeg' } });
    expect(wrongSize.status).toBe(403);
    expect(sim.keys('firefly-test')).toEqual([]);
    const ok = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'image/jpeg' } });
    expect(ok.status).toBe(200);
    const head = await oss.head('up/1.jpg');
    expect(head.res.headers).toMatchObject({ 'content-type': 'image/jpeg', 'content-length': '100' });
    sim.advanceClock(301_000);
    expect((await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'image/jpeg' } })).status).toBe(403);
  });

  it('answers browsers as a bucket CORS rule does: preflight for allowed origins and methods, the origin on answers', async () => {
    const strict = await startOssSimulator({ buckets: ['firefly-test'], corsAllowedOrigins: ['http://app.example'] });
    try {
      const oss = new OSS({ accessKeyId: strict.accessKeyId, accessKeySecret: strict.accessKeySecret, bucket: 'firefly-test', endpoint: strict.localUrl, sldEnable: true, region: 'oss-cn-hangzhou' } as OSS.Options);
      const url = await oss.signatureUrlV4('PUT', 300, { headers: { 'content-type': 'image/png', 'content-length': String(png.length) } }, 'up/ref.png', ['content-length']);
      const preflight = (origin: string, method = 'PUT') =>
        fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } });
      const allowed = await preflight('http://app.example');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.example');
      expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');
      expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');
      expect((await preflight('http://evil.example')).status).toBe(403);
      expect((await preflight('http://app.example', 'DELETE')).status).toBe(403);

      const put = await fetch(url, { method: 'PUT', body: png, headers: { origin: 'http://app.example', 'content-type': 'image/png' } });
      expect(put.status).toBe(200);
      expect(put.headers.get('access-control-allow-origin')).toBe('http://app.example');
      expect(put.headers.get('access-control-expose-headers')).toContain('ETag');
      // CORS opens nothing by itself: the same origin without a valid signature is still refused.
      const unsigned = await fetch(`${strict.localUrl}/firefly-test/up/other.png`, { method: 'PUT', body: png, headers: { origin: 'http://app.example', 'content-type': 'image/png' } });
      expect(unsigned.status).toBe(403);
      expect(strict.keys('firefly-test')).toEqual(['up/ref.png']);
    } finally {
      await strict.close();
    }
    // The default rule allows any origin (development).
    const open = await fetch(`${sim.url}/firefly-test/x.png`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT' } });
    expect(open.status).toBe(200);
  });

  it('checks Content-MD5 and refuses header-signed requests outside the 15-minute clock window', async () => {
    const oss = client();
    await expect(oss.put('m.txt', Buffer.from('abc'), { headers: { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' } })).rejects.toMatchObject({ code: 'InvalidDigest' });
    sim.advanceClock(16 * 60_000);
    await expect(oss.put('m.txt', Buffer.from('abc'))).rejects.toMatchObject({ code: 'RequestTimeTooSkewed', status: 403 });
  });
});
