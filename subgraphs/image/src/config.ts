import { commonShape, databaseShape, parseConfig, port, positiveInt, rateLimitOverrides, redisShape, refuseDevelopmentDefaults, z } from '@firefly/config';
import { ossProductionProblems, ossShape, resolveOssTarget } from '@firefly/oss';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  ...ossShape,
  IMAGE_SUBGRAPH_PORT: port(4003),
  /** Largest file createUploadUrl signs an upload for, in bytes. Default 20 MB. */
  UPLOAD_MAX_BYTES: positiveInt(20 * 1024 * 1024),
  /** Life of an upload URL from createUploadUrl. Default 600. */
  UPLOAD_URL_TTL_SECONDS: positiveInt(600),
  /**
   * Overrides of the `@rateLimit` values in schema.graphql (default 120 calls per user per minute on every mutation
   * and subscription start): `Mutation.createImageJob=20/60` (limit/seconds). Default: none.
   */
  IMAGE_RATE_LIMITS: rateLimitOverrides(),
});

export type ImageConfig = ReturnType<typeof loadImageConfig>;

export function loadImageConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config, ossProductionProblems(config));
  return Object.freeze({ ...config, oss: Object.freeze(resolveOssTarget(config)) });
}
