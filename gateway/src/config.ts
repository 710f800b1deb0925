import { accessTokenShape, commonShape, parseConfig, port, positiveInt, bool, rateLimit, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';

const schema = z.object({
  ...commonShape,
  ...redisShape,
  ...accessTokenShape,
  /**
   * JSON array of PUBLIC Ed25519 JWKs the gateway verifies access tokens with (the gateway never signs). When set,
   * the gateway needs no private key; otherwise the public halves of ACCESS_TOKEN_KEYS are used.
   */
  ACCESS_TOKEN_PUBLIC_KEYS: z.string().optional(),
  GATEWAY_PORT: port(4000),
  /** Path of the composed supergraph (committed at schema/supergraph.graphql). */
  SUPERGRAPH_PATH: z.string().optional(),
  USER_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4001/graphql'),
  CONVERSATION_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4002/graphql'),
  IMAGE_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4003/graphql'),
  BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
  /** Serve Apollo Sandbox at GET /graphql. Default: on outside production, always off in production. */
  SANDBOX_ENABLED: bool(true),
  /**
   * Origins whose pages may call the gateway from a browser (CORS), `https://app.example.com,https://admin.example.com`.
   * Default: none in production; http://localhost:3000 and http://localhost:5173 (and their 127.0.0.1 twins) otherwise.
   */
  CORS_ORIGINS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.split(',').map((o) => o.trim()).filter(Boolean).every(isOrigin), {
      error: 'expected origins (scheme://host[:port], no path) separated by commas',
    }),
  /** Header naming the tenant (slug) when no host mapping matches. */
  TENANT_HEADER: z.string().default('x-tenant-id'),
  /**
   * Host → tenant mapping, `host=tenant,host2=tenant2`: bootstrap and fallback only. Tenants' hosts live in MySQL
   * (setTenantHosts), which wins for a host both name; this covers hosts MySQL does not map.
   */
  TENANT_HOSTS: z.string().default(''),
  /**
   * How often each replica compares its copy of the tenants (hosts, suspensions) with Redis's revision, as a backstop
   * for a missed change announcement (announcements arrive within milliseconds).
   */
  PLATFORM_STATE_RECHECK_MS: positiveInt(1_000),
  // ---- document limits (every document, on HTTP and graphql-ws, before anything runs) ----
  /** Nested field levels; fragments add none. */
  MAX_QUERY_DEPTH: positiveInt(15),
  /** Aliased fields per operation, a fragment's counted at every spread. */
  MAX_QUERY_ALIASES: positiveInt(30),
  /** Fields at the top of an operation. */
  MAX_QUERY_ROOT_FIELDS: positiveInt(20),
  /** Fields of an operation once its fragments are expanded (fragments spread many times multiply). */
  MAX_QUERY_EXPANDED_FIELDS: positiveInt(2_000),
  /** Lexical tokens per document (the parser stops reading past it). */
  MAX_QUERY_TOKENS: positiveInt(10_000),
  /** Static cost per operation: objects cost 1, lists multiply by their `first` (or @listSize), @cost overrides. */
  MAX_QUERY_COST: positiveInt(5_000),
  /** Size assumed for a list with no `first` and no @listSize(assumedSize:). */
  QUERY_COST_DEFAULT_LIST_SIZE: positiveInt(20),
  MAX_BODY_BYTES: positiveInt(1_000_000),
  /**
   * Which proxies in front of the gateway may set X-Forwarded-For (Express `trust proxy`): a hop count, `true`, or
   * addresses/subnets (`loopback, 10.0.0.0/8`). Default: none — the client IP is the socket's peer.
   */
  TRUST_PROXY: z.string().default(''),
  /**
   * Shared response cache (Redis) for answers to anonymous callers that the subgraphs' @cacheControl hints make PUBLIC
   * (model catalogs, products). Off: nothing is cached; `cache-control` headers are sent either way.
   */
  RESPONSE_CACHE_ENABLED: bool(true),
  /**
   * Automatic persisted queries of ordinary clients (Apollo's protocol) are kept in Redis, shared by every replica, for
   * this long after they were registered; a client whose hash expired gets PERSISTED_QUERY_NOT_FOUND and sends the text.
   */
  APQ_TTL_SECONDS: positiveInt(86_400),
  // ---- rate limits (`limit/seconds`; counters in Redis, shared by every replica; RATE_LIMITED past them) ----
  /** Requests without a bearer token or API key, and graphql-ws upgrades, per client IP. */
  RATE_LIMIT_ANONYMOUS_PER_IP: rateLimit('1200/60'),
  /** Operations of one signed-in user, of any kind, on HTTP and graphql-ws. (Each mutation field has its own limit in its subgraph.) */
  RATE_LIMIT_PER_USER: rateLimit('1200/60'),
  // ---- partners (x-api-key; docs/partners.md) ----
  /** Requests per minute of a partner API key created without a limit of its own (counted in Redis). */
  PARTNER_KEY_RATE_LIMIT_PER_MINUTE: positiveInt(600),
  /** How long a replica keeps a key's record in memory (revocation and suspension are checked on every request). */
  PARTNER_KEY_CACHE_SECONDS: positiveInt(30),
  /** How far a signed request's x-firefly-timestamp may be from the gateway's clock, either way. */
  PARTNER_SIGNATURE_WINDOW_SECONDS: positiveInt(300),
  /** How often each replica sends the keys' lastUsedAt and the partners' usage counts to the user subgraph (one call per tenant). */
  PARTNER_LAST_USED_FLUSH_SECONDS: positiveInt(30),
  /** Refused API keys one client IP may present (`limit/seconds`); past it its key requests get RATE_LIMITED. */
  PARTNER_KEY_FAILURES_PER_IP: rateLimit('30/60'),
  // ---- subgraph calls: deadlines, size cap, circuit breakers (gateway/src/data-source.ts) ----
  /** One subgraph fetch (connect, wait, read the whole answer) is abandoned with UPSTREAM_UNAVAILABLE after this long. */
  SUBGRAPH_TIMEOUT_MS: positiveInt(15_000),
  /** Every subgraph fetch of one query or mutation must finish within this long of its arrival (subscriptions excepted). */
  GATEWAY_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  /** A subgraph answer larger than this is abandoned with UPSTREAM_UNAVAILABLE (`reason: response_too_large`). */
  SUBGRAPH_MAX_RESPONSE_BYTES: positiveInt(10_000_000),
  /** Consecutive failed calls to one subgraph (unreachable, timed out, 5xx) that open its circuit breaker. */
  SUBGRAPH_BREAKER_FAILURES: positiveInt(5),
  /** An open breaker fails that subgraph's fields at once for this long, then lets one probe call through. */
  SUBGRAPH_BREAKER_HALF_OPEN_MS: positiveInt(5_000),

  // ---- subscriptions (graphql-ws on /graphql; see gateway/src/subscriptions) ----
  /** Ping interval towards clients (WebSocket ping frames); a client that misses its pong for as long is dropped. */
  SUBSCRIPTION_KEEPALIVE_MS: positiveInt(12_000),
  /** A socket that sends no `connection_init` within this time is closed with 4408. */
  SUBSCRIPTION_CONNECTION_INIT_TIMEOUT_MS: positiveInt(3_000),
  /** Concurrent subscriptions on one client socket; more are refused with RATE_LIMITED. */
  SUBSCRIPTION_MAX_PER_CONNECTION: positiveInt(20),
  /** Open graphql-ws sockets per user on one gateway replica; one more is closed with 1008. */
  SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: positiveInt(10),
  /** Open graphql-ws sockets per client IP on one gateway replica, signed in or not yet; one more upgrade gets HTTP 429. */
  SUBSCRIPTION_MAX_CONNECTIONS_PER_IP: positiveInt(50),
  /** Subscriptions one user may start (`limit/seconds`, counted in Redis); more are refused with RATE_LIMITED. */
  SUBSCRIPTION_START_RATE_PER_USER: rateLimit('120/60'),
  /** Concurrent subscriptions on one gateway replica; more are refused with RATE_LIMITED. */
  SUBSCRIPTION_MAX_ACTIVE: positiveInt(20_000),
  /** Events buffered per subscription for a client that reads slower than they come; past it the subscription ends. */
  SUBSCRIPTION_MAX_QUEUED_EVENTS: positiveInt(1_000),
  /**
   * Subscription fields whose every event is the whole current state of one thing (comma-separated root field
   * names): an event still waiting to be sent when a newer one arrives is dropped for it — a client that fell behind
   * gets the latest state instead of every stale one. Never for token streams (messageStream: each delta counts).
   */
  SUBSCRIPTION_LATEST_STATE_FIELDS: z
    .string()
    .default('imageJobUpdated')
    .refine((v) => v.split(',').map((f) => f.trim()).filter(Boolean).every((f) => /^[_A-Za-z]\w*$/.test(f)), { error: 'expected GraphQL field names separated by commas' }),
  /** Every open socket's session is re-checked this often (backstop for a missed revocation message). */
  SUBSCRIPTION_AUTH_RECHECK_SECONDS: positiveInt(60),
  /** Ping interval on gateway → subgraph sockets; no pong within as long ends their subscriptions (UPSTREAM_UNAVAILABLE). */
  SUBSCRIPTION_UPSTREAM_KEEPALIVE_MS: positiveInt(10_000),
  /** Connecting to a subgraph's graphql-ws (handshake, then connection_ack) must finish within this time. */
  SUBSCRIPTION_UPSTREAM_CONNECT_TIMEOUT_MS: positiveInt(5_000),
  /**
   * graphql-ws URL per subgraph, `name=ws://host:port/graphql,…`. Default: each subgraph's HTTP URL with ws(s)://
   * (every subgraph serves graphql-ws on its GraphQL path).
   */
  SUBSCRIPTION_SUBGRAPH_WS_URLS: z
    .string()
    .default('')
    .refine((v) => v.split(',').map((p) => p.trim()).filter(Boolean).every((p) => /^[\w-]+=wss?:\/\/\S+$/.test(p)), {
      error: 'expected name=ws://host:port/graphql pairs separated by commas',
    }),
});

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  // Public keys alone are enough for the gateway; only without them must production provide ACCESS_TOKEN_KEYS.
  refuseDevelopmentDefaults(config.ACCESS_TOKEN_PUBLIC_KEYS ? { ...config, ACCESS_TOKEN_KEYS: config.ACCESS_TOKEN_PUBLIC_KEYS } : config);
  return config;
}

const DEVELOPMENT_ORIGINS = ['http://localhost:3000', 'http://localhost:5173', 'http://127.0.0.1:3000', 'http://127.0.0.1:5173'];

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/** The CORS allow-list: CORS_ORIGINS, else none in production and the development servers' origins otherwise. */
export function corsOriginsOf(config: Pick<GatewayConfig, 'CORS_ORIGINS' | 'NODE_ENV'>): string[] {
  if (config.CORS_ORIGINS !== undefined) return config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  return config.NODE_ENV === 'production' ? [] : DEVELOPMENT_ORIGINS;
}

/** Parses `SUBSCRIPTION_SUBGRAPH_WS_URLS` into a lookup (the format is checked by the schema). */
export function parseSubgraphWsUrls(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    map.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return map;
}

/** Parses `TENANT_HOSTS` into a lookup. */
export function parseTenantHosts(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [host, tenant] = pair.split('=').map((p) => p.trim().toLowerCase());
    if (host && tenant) map.set(host, tenant);
  }
  return map;
}
