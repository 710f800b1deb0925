import { bool, positiveInt, url, z } from '@firefly/config';

/** Where `npm start` runs the OSS simulator, and the credentials and bucket it accepts by default. */
export const OSS_SIMULATOR = {
  endpoint: 'http://localhost:4011',
  accessKeyId: 'sim-access-key-id',
  accessKeySecret: 'sim-access-key-secret',
  bucket: 'firefly-dev',
} as const;

/** The object-storage variables of every process that stores or signs images (image subgraph, image worker). */
export const ossShape = {
  /** OSS region, e.g. oss-cn-hangzhou (V4 signatures carry it). Default oss-cn-hangzhou. */
  OSS_REGION: z.string().regex(/^oss-[a-z0-9-]+$/, { error: 'expected an OSS region such as oss-cn-hangzhou' }).default('oss-cn-hangzhou'),
  /** Bucket holding images and uploads. Default firefly-dev (the simulator's). */
  OSS_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, { error: 'expected an OSS bucket name (3-63 lower-case letters, digits, -)' }).default(OSS_SIMULATOR.bucket),
  /** Endpoint; default the region's public endpoint, or the simulator's (http://localhost:4011) without an AccessKey. */
  OSS_ENDPOINT: url(['http', 'https']).optional(),
  /**
   * Endpoint written into URLs handed to clients (signed image URLs, upload URLs) when it differs from the one this
   * process calls, e.g. OSS's internal endpoint for servers and the public one for browsers. Default OSS_ENDPOINT.
   */
  OSS_PUBLIC_ENDPOINT: url(['http', 'https']).optional(),
  /** Address objects as <endpoint>/<bucket>/<key> instead of <bucket>.<endpoint>/<key>. Always on for the simulator. */
  OSS_PATH_STYLE: bool(false),
  /** AccessKey (or STS AccessKey) id. Unset: development and tests use the OSS simulator; production refuses. */
  OSS_ACCESS_KEY_ID: z.string().optional(),
  OSS_ACCESS_KEY_SECRET: z.string().optional(),
  /** STS security token that goes with a temporary AccessKey. */
  OSS_STS_TOKEN: z.string().optional(),
  /** Life of the signed GET URL answered as Image.url. Default 3600. */
  OSS_SIGNED_URL_TTL_SECONDS: positiveInt(3_600),
  /** Public CDN origin serving the bucket; when set, Image.url is <base>/<key> instead of a signed OSS URL. */
  OSS_CDN_BASE_URL: url(['http', 'https']).optional(),
  /** One OSS call may take this long. Default 30000. */
  OSS_TIMEOUT_MS: positiveInt(30_000),
};

type OssVariables = z.infer<z.ZodObject<typeof ossShape>>;

/** Where images go: real OSS, or the local simulator (development and tests only). */
export interface OssTarget {
  mode: 'live' | 'simulator';
  region: string;
  bucket: string;
  endpoint: string | undefined;
  /** Endpoint of URLs handed to clients; undefined = the same as endpoint. */
  publicEndpoint: string | undefined;
  pathStyle: boolean;
  accessKeyId: string;
  accessKeySecret: string;
  stsToken: string | undefined;
  signedUrlTtlSeconds: number;
  cdnBaseUrl: string | undefined;
  timeoutMs: number;
}

export function resolveOssTarget(config: OssVariables): OssTarget {
  const common = {
    region: config.OSS_REGION,
    bucket: config.OSS_BUCKET,
    stsToken: config.OSS_STS_TOKEN,
    signedUrlTtlSeconds: config.OSS_SIGNED_URL_TTL_SECONDS,
    cdnBaseUrl: config.OSS_CDN_BASE_URL?.replace(/\/+$/, ''),
    timeoutMs: config.OSS_TIMEOUT_MS,
    publicEndpoint: config.OSS_PUBLIC_ENDPOINT,
  };
  if (!config.OSS_ACCESS_KEY_ID) {
    return {
      ...common,
      mode: 'simulator',
      endpoint: config.OSS_ENDPOINT ?? OSS_SIMULATOR.endpoint,
      pathStyle: true,
      accessKeyId: OSS_SIMULATOR.accessKeyId,
      accessKeySecret: OSS_SIMULATOR.accessKeySecret,
    };
  }
  return {
    ...common,
    mode: 'live',
    endpoint: config.OSS_ENDPOINT,
    pathStyle: config.OSS_PATH_STYLE,
    accessKeyId: config.OSS_ACCESS_KEY_ID,
    accessKeySecret: config.OSS_ACCESS_KEY_SECRET ?? '',
  };
}

/** What production refuses in these variables (appended to the process's own refusals). */
export function ossProductionProblems(config: OssVariables): string[] {
  const problems: string[] = [];
  if (!config.OSS_ACCESS_KEY_ID) problems.push('OSS_ACCESS_KEY_ID: must be set in production (unset means the local OSS simulator)');
  if (config.OSS_ACCESS_KEY_ID && !config.OSS_ACCESS_KEY_SECRET) problems.push('OSS_ACCESS_KEY_SECRET: must be set with OSS_ACCESS_KEY_ID');
  return problems;
}
