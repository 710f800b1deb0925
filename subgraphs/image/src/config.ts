import { commonShape, databaseShape, parseConfig, port, positiveInt, rateLimitOverrides, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';
import { ossProductionProblems, ossShape, resolveOssTarget } from '@firefly/oss';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  ...ossShape,
  IMAGE_SUBGRAPH_PORT: port(4003),
  /** Largest file createUploadUrl signs an upload for, in bytes. Default 20 MB. */
  UPLOAD_MAX_BYTES: positiveInt(20 * 1024 * 1024),
  /**
   * Image models that take a reference image (createImageJob's referenceImageKey), comma-separated; DashScope takes
   * `ref_img` on wanx-v1. Default wanx-v1.
   */
  IMAGE_REFERENCE_MODELS: z
    .string()
    .default('wanx-v1')
    .transform((value) => new Set(value.split(',').map((id) => id.trim()).filter(Boolean))),
  /** Life of an upload URL from createUploadUrl. Default 600. */
  UPLOAD_URL_TTL_SECONDS: positiveInt(600),
  /**
   * Overrides of the `@rateLimit` values in schema.graphql (default 120 calls per user per minute on every mutation
   * and subscription start): `Mutation.createImageJob=20/60` (limit/seconds). Default: none.
   */
  IMAGE_RATE_LIMITS: rateLimitOverrides(),
  /** Billing's GraphQL endpoint (image prices, credit holds) called with a service credential. */
  BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
  /** One billing call attempt may take this long. Default 5000. */
  BILLING_TIMEOUT_MS: positiveInt(5_000),
  /** Attempts of one job for transient failures (BullMQ retries with exponential backoff). Default 5. */
  IMAGE_JOB_ATTEMPTS: positiveInt(5),
  /** First retry delay of a job; doubled each attempt. Default 2000. */
  IMAGE_JOB_BACKOFF_MS: positiveInt(2_000),
  /** A job's credit hold lapses (billing releases it) if nothing settled it this long after creation. Default 86400. */
  IMAGE_JOB_HOLD_SECONDS: positiveInt(86_400),
  /**
   * imageJobUpdated re-reads the job when its progress stream was quiet this long (a change whose stream entry was
   * lost still reaches the subscriber; a finished job whose settlement event never came is ended). Default 5000.
   */
  IMAGE_JOB_RECHECK_MS: positiveInt(5_000),
  /**
   * How often each replica looks for lost jobs: QUEUED or RUNNING with no entry in the queue (a crash between the row
   * and the queue, or BullMQ gave up), or finished with the credits not settled. They are queued again; one older
   * than half its credit hold is FAILED and its hold released. Default 30.
   */
  IMAGE_JOB_SWEEP_INTERVAL_SECONDS: positiveInt(30),
  /** Jobs one user may have QUEUED or RUNNING at once; more are RATE_LIMITED. Default 5. */
  MAX_ACTIVE_IMAGE_JOBS_PER_USER: positiveInt(5),
});

export type ImageConfig = ReturnType<typeof loadImageConfig>;

export function loadImageConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config, ossProductionProblems(config));
  return Object.freeze({ ...config, oss: Object.freeze(resolveOssTarget(config)) });
}
