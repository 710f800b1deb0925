import { bool, commonShape, ConfigError, databaseShape, parseConfig, port, positiveInt, rateLimitOverrides, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';

/** DashScope's native API per region (docs/dashscope.md §1). Keys are per region. */
const DASHSCOPE_REGION_BASE_URLS = {
  'cn-beijing': 'https://dashscope.aliyuncs.com/api/v1',
  'ap-southeast-1': 'https://dashscope-intl.aliyuncs.com/api/v1',
} as const;

/** Where `npm start` runs the DashScope simulator, and the key it accepts by default. */
export const SIMULATOR_BASE_URL = 'http://127.0.0.1:4010/api/v1';
export const SIMULATOR_API_KEY = 'sk-simulator';

const chatProvidersSchema = z
  .array(z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), baseUrl: z.string().url(), apiKey: z.string().min(1) }).strict())
  .refine((providers) => new Set(providers.map((p) => p.name)).size === providers.length && !providers.some((p) => p.name === 'dashscope'));

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  CONVERSATION_SUBGRAPH_PORT: port(4002),
  /** Billing's GraphQL endpoint (credit reservations, prices) called with a service credential. */
  BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
  /** One billing call attempt may take this long. Default 5000. */
  BILLING_TIMEOUT_MS: positiveInt(5_000),
  /**
   * DashScope API key (`sk-…`). Unset: development and tests talk to the DashScope simulator instead (and say so
   * loudly at boot); production refuses to start.
   */
  DASHSCOPE_API_KEY: z.string().optional(),
  /** Region whose endpoint is used when DASHSCOPE_BASE_URL is unset. Default cn-beijing. */
  DASHSCOPE_REGION: z.enum(['cn-beijing', 'ap-southeast-1'], { error: 'expected cn-beijing or ap-southeast-1' }).default('cn-beijing'),
  /** Native API base URL. Default: the region's endpoint, or the simulator's (http://127.0.0.1:4010/api/v1) without a key. */
  DASHSCOPE_BASE_URL: url(['http', 'https']).optional(),
  /** Optional workspace id, sent as X-DashScope-WorkSpace. */
  DASHSCOPE_WORKSPACE: z.string().optional(),
  /** Longest silence from DashScope before the first byte and between two events. Default 60000. */
  DASHSCOPE_TIMEOUT_MS: positiveInt(60_000),
  /** Retries of throttled / failed DashScope calls, only before the first token. Default 2. */
  DASHSCOPE_MAX_RETRIES: z.coerce.number({ error: 'expected a whole number' }).int().min(0).max(10).default(2),
  /**
   * OpenAI-compatible chat providers a model may name (upsertChatModel's `provider`), besides `dashscope` (the native
   * API above): a JSON array of `{"name": "…", "baseUrl": "https://…/v1", "apiKey": "…"}`, e.g. DashScope's compatible
   * mode `https://dashscope.aliyuncs.com/compatible-mode/v1` or another vendor. Names: letters, digits, `_`, `-`.
   * Default: none.
   */
  CHAT_PROVIDERS: z
    .string()
    .default('[]')
    .transform((text, ctx) => {
      try {
        return chatProvidersSchema.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {"name", "baseUrl", "apiKey"} with distinct names other than dashscope' });
        return z.NEVER;
      }
    }),
  /** Longest a whole generation may run before it is cut off (FAILED, charged for what was generated). Default 300. */
  GENERATION_TIMEOUT_SECONDS: positiveInt(300),
  /**
   * Overrides of the `@rateLimit` values in schema.graphql (default 120 calls per user per minute on every mutation
   * and subscription start): `Mutation.sendMessage=30/60,Subscription=240/60` (limit/seconds). Default: none.
   */
  CONVERSATION_RATE_LIMITS: rateLimitOverrides(),
  /** Generations one user may have running at once; more are refused with RATE_LIMITED. Default 3. */
  MAX_CONCURRENT_GENERATIONS_PER_USER: positiveInt(3),
  /**
   * Generations one process runs at once; a start beyond it is refused at once with RATE_LIMITED (retryAfterSeconds)
   * instead of being taken on late. Size it to the host: each answer holds an upstream stream and costs CPU per
   * token. 0: no cap. Default 1000.
   */
  GENERATION_CAPACITY: z.coerce.number({ error: 'expected a whole number' }).int().min(0).default(1_000),
  /**
   * Starts are refused with RATE_LIMITED while this process's event loop is late by more than this many ms (p99 of
   * the last second): its running answers are already delivered late. 0: not measured. Default 0.
   */
  GENERATION_MAX_LOOP_DELAY_MS: z.coerce.number({ error: 'expected a whole number' }).int().min(0).default(0),
  /**
   * Start an answer's DashScope request while billing holds its credits, instead of after (the hold is most of the
   * time before the request leaves), for users whose last hold in this process succeeded in the last 10 minutes.
   * Nothing is written and the request is aborted if the hold fails (generation/early-start.ts). Default true.
   */
  GENERATION_EARLY_START: bool(true),
  /** How long a finished message's token stream stays replayable in Redis. Default 3600. */
  STREAM_RETENTION_SECONDS: positiveInt(3_600),
  /**
   * A generating process renews its lease in Redis every third of this; a lease not renewed for this long marks the
   * process dead and the sweeper finishes the message as FAILED. Default 15.
   */
  GENERATION_LEASE_SECONDS: positiveInt(15),
  /** How often each replica looks for expired generation leases. Default 5. */
  GENERATION_SWEEP_INTERVAL_SECONDS: positiveInt(5),
  /** Most history messages considered when building a prompt (newest first, then cut to the token budget). Default 200. */
  CONTEXT_MAX_MESSAGES: positiveInt(200),
  /** Longest user message, in characters, before any token estimate. Default 100000. */
  MAX_MESSAGE_CHARS: positiveInt(100_000),
});

/** Where chat generation goes: the real DashScope, or the local simulator (development and tests only). */
export type DashScopeTarget =
  | { mode: 'live'; baseUrl: string; apiKey: string; workspace: string | undefined }
  | { mode: 'simulator'; baseUrl: string; apiKey: string; workspace: undefined };

export type ConversationConfig = ReturnType<typeof loadConversationConfig>;

export function loadConversationConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config, productionProblems(config));
  if (config.GENERATION_SWEEP_INTERVAL_SECONDS > config.GENERATION_LEASE_SECONDS) {
    throw new ConfigError(['GENERATION_SWEEP_INTERVAL_SECONDS: expected at most GENERATION_LEASE_SECONDS (a dead generation must be found within about one lease)']);
  }
  return Object.freeze({ ...config, dashscope: Object.freeze(resolveDashScope(config)) });
}

function resolveDashScope(config: z.infer<typeof schema>): DashScopeTarget {
  if (!config.DASHSCOPE_API_KEY) {
    return { mode: 'simulator', baseUrl: config.DASHSCOPE_BASE_URL ?? SIMULATOR_BASE_URL, apiKey: SIMULATOR_API_KEY, workspace: undefined };
  }
  return {
    mode: 'live',
    baseUrl: config.DASHSCOPE_BASE_URL ?? DASHSCOPE_REGION_BASE_URLS[config.DASHSCOPE_REGION],
    apiKey: config.DASHSCOPE_API_KEY,
    workspace: config.DASHSCOPE_WORKSPACE,
  };
}

/** Production never talks to the simulator, and never sends the key over plain HTTP. */
function productionProblems(config: z.infer<typeof schema>): string[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!config.DASHSCOPE_API_KEY) problems.push('DASHSCOPE_API_KEY: must be set in production (without it the DashScope simulator would be used)');
  else if (config.DASHSCOPE_API_KEY === SIMULATOR_API_KEY) problems.push('DASHSCOPE_API_KEY: is the simulator key; production needs a real DashScope key');
  if (config.DASHSCOPE_BASE_URL && !config.DASHSCOPE_BASE_URL.startsWith('https://')) {
    problems.push('DASHSCOPE_BASE_URL: must be an https:// URL in production (the API key travels in a header)');
  }
  for (const provider of config.CHAT_PROVIDERS) {
    if (!provider.baseUrl.startsWith('https://')) problems.push(`CHAT_PROVIDERS: ${provider.name}'s baseUrl must be an https:// URL in production (the API key travels in a header)`);
  }
  return problems;
}
