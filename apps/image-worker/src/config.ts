import { commonShape, ConfigError, databaseShape, parseConfig, port, positiveInt, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';
import { ossProductionProblems, ossShape, resolveOssTarget } from '@firefly/oss';

/** DashScope's native API per region (docs/dashscope.md §1). */
const DASHSCOPE_REGION_BASE_URLS = {
  'cn-beijing': 'https://dashscope.aliyuncs.com/api/v1',
  'ap-southeast-1': 'https://dashscope-intl.aliyuncs.com/api/v1',
} as const;

/** Where `npm start` runs the DashScope simulator, and the key it accepts by default. */
const SIMULATOR_BASE_URL = 'http://127.0.0.1:4010/api/v1';
const SIMULATOR_API_KEY = 'sk-simulator';

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  ...ossShape,
  /** Health (/healthz, /readyz) and metrics (/metrics) of the image worker. Default 4005. */
  IMAGE_WORKER_PORT: port(4005),
  /** Jobs one worker process runs at once. Scale further by starting more workers. Default 4. */
  IMAGE_WORKER_CONCURRENCY: positiveInt(4),
  /**
   * A running job's lock in the queue; a worker that dies (kill -9) stops renewing it and after this long another
   * worker takes the job over, resuming the same DashScope task. Default 30000.
   */
  IMAGE_WORKER_LOCK_MS: positiveInt(30_000),
  /** Attempts of one job for transient failures (BullMQ retries with exponential backoff). Default 5. */
  IMAGE_JOB_ATTEMPTS: positiveInt(5),
  /** First retry delay of a job; doubled each attempt. Default 2000. */
  IMAGE_JOB_BACKOFF_MS: positiveInt(2_000),
  /**
   * Wait before the first poll of a task just submitted (a resumed task is polled at once), and first delay between
   * two polls; grows ×1.5 per poll up to IMAGE_TASK_POLL_MAX_MS. Default 1000.
   */
  IMAGE_TASK_POLL_INITIAL_MS: positiveInt(1_000),
  IMAGE_TASK_POLL_MAX_MS: positiveInt(5_000),
  /**
   * Least time between two progress steps a job publishes (row write, stream entry, subscriber event); polls faster
   * than this update nobody. Status changes are never held back. Default 1000.
   */
  IMAGE_PROGRESS_MIN_INTERVAL_MS: positiveInt(1_000),
  /** A task not finished this long after the job started is given up (FAILED, credits released). Default 1800. */
  IMAGE_TASK_TIMEOUT_SECONDS: positiveInt(1_800),
  /** Billing's GraphQL endpoint (settle/release of the job's credit hold) with a service credential. */
  BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
  BILLING_TIMEOUT_MS: positiveInt(5_000),
  /** DashScope API key. Unset: the DashScope simulator (development, tests); production refuses. */
  DASHSCOPE_API_KEY: z.string().optional(),
  DASHSCOPE_REGION: z.enum(['cn-beijing', 'ap-southeast-1'], { error: 'expected cn-beijing or ap-southeast-1' }).default('cn-beijing'),
  DASHSCOPE_BASE_URL: url(['http', 'https']).optional(),
  DASHSCOPE_WORKSPACE: z.string().optional(),
  /** One DashScope call (submit, poll, result download) may take this long. Default 60000. */
  DASHSCOPE_TIMEOUT_MS: positiveInt(60_000),
});

export type ImageWorkerConfig = ReturnType<typeof loadImageWorkerConfig>;

export function loadImageWorkerConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  const problems = ossProductionProblems(config);
  if (!config.DASHSCOPE_API_KEY) problems.push('DASHSCOPE_API_KEY: must be set in production (unset means the local DashScope simulator)');
  refuseDevelopmentDefaults(config, problems);
  if (config.IMAGE_TASK_POLL_INITIAL_MS > config.IMAGE_TASK_POLL_MAX_MS) {
    throw new ConfigError(['IMAGE_TASK_POLL_INITIAL_MS: expected at most IMAGE_TASK_POLL_MAX_MS']);
  }
  const dashscope = config.DASHSCOPE_API_KEY
    ? { mode: 'live' as const, baseUrl: config.DASHSCOPE_BASE_URL ?? DASHSCOPE_REGION_BASE_URLS[config.DASHSCOPE_REGION], apiKey: config.DASHSCOPE_API_KEY, workspace: config.DASHSCOPE_WORKSPACE }
    : { mode: 'simulator' as const, baseUrl: config.DASHSCOPE_BASE_URL ?? SIMULATOR_BASE_URL, apiKey: SIMULATOR_API_KEY, workspace: undefined };
  return Object.freeze({ ...config, oss: Object.freeze(resolveOssTarget(config)), dashscope: Object.freeze(dashscope) });
}
