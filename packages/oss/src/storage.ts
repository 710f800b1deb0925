import OSS from 'ali-oss';
import type { OssTarget } from './config.ts';

/** Facts about one stored object. */
export interface StoredObjectInfo {
  contentType: string;
  byteSize: number;
}

/** A signed, single-object upload: send `method` to `url` with `headers` and a body of exactly the declared size. */
export interface UploadGrant {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: Date;
}

/** The images bucket, through the real `ali-oss` client (against the OSS simulator in development and tests). */
export interface ObjectStorage {
  readonly mode: OssTarget['mode'];
  readonly bucket: string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** Type and size, or null when the object does not exist. */
  head(key: string): Promise<StoredObjectInfo | null>;
  /** Removes the object; removing a missing one succeeds (OSS answers 204 either way). */
  delete(key: string): Promise<void>;
  /** Where a client fetches the object: `<OSS_CDN_BASE_URL>/<key>`, or a signed GET URL living OSS_SIGNED_URL_TTL_SECONDS. */
  publicUrl(key: string): string;
  /** A V4-signed PUT URL bound to this content type and byte length (OSS refuses any other type or size). */
  uploadGrant(key: string, contentType: string, byteSize: number, ttlSeconds: number): Promise<UploadGrant>;
}

const isNotFound = (error: unknown) => {
  const e = error as { code?: string; status?: number };
  return e.status === 404 || e.code === 'NoSuchKey';
};

function ossClient(target: OssTarget, endpoint: string | undefined): OSS {
  return new OSS({
    accessKeyId: target.accessKeyId,
    accessKeySecret: target.accessKeySecret,
    stsToken: target.stsToken,
    bucket: target.bucket,
    region: target.region,
    endpoint,
    secure: endpoint ? endpoint.startsWith('https:') : true,
    timeout: target.timeoutMs,
    // Path-style addressing (<endpoint>/<bucket>/<key>); ali-oss supports it though its typings omit the option.
    ...({ sldEnable: target.pathStyle } as object),
  });
}

export function createObjectStorage(target: OssTarget): ObjectStorage {
  const client = ossClient(target, target.endpoint);
  // Signing is local arithmetic: URLs for clients may name another host than the one this process calls.
  const signer = target.publicEndpoint ? ossClient(target, target.publicEndpoint) : client;

  return {
    mode: target.mode,
    bucket: target.bucket,
    async put(key, body, contentType) {
      await client.put(key, body, { mime: contentType, headers: { 'Content-Type': contentType } });
    },
    async get(key) {
      try {
        const result = await client.get(key);
        return result.content as Buffer;
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async head(key) {
      try {
        const result = await client.head(key);
        const headers = result.res.headers as Record<string, string | undefined>;
        return { contentType: headers['content-type'] ?? 'application/octet-stream', byteSize: Number(headers['content-length'] ?? 0) };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async delete(key) {
      await client.delete(key);
    },
    publicUrl(key) {
      if (target.cdnBaseUrl) return `${target.cdnBaseUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
      return signer.signatureUrl(key, { expires: target.signedUrlTtlSeconds });
    },
    async uploadGrant(key, contentType, byteSize, ttlSeconds) {
      const headers = { 'content-type': contentType, 'content-length': String(byteSize) };
      const url = await signer.signatureUrlV4('PUT', ttlSeconds, { headers }, key, ['content-length']);
      return { url, method: 'PUT', headers: { 'Content-Type': contentType }, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
    },
  };
}
