import { accessTokenShape, commonShape, parseConfig, port, positiveInt, bool, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';

const schema = z.object({
  ...commonShape,
  ...redisShape,
  ...accessTokenShape,
  GATEWAY_PORT: port(4000),
  /** Path of the composed supergraph (committed at schema/supergraph.graphql). */
  SUPERGRAPH_PATH: z.string().optional(),
  USER_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4001/graphql'),
  CONVERSATION_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4002/graphql'),
  IMAGE_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4003/graphql'),
  BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
  /** Serve Apollo Sandbox at GET /graphql. Default: on outside production, always off in production. */
  SANDBOX_ENABLED: bool(true),
  /** Header naming the tenant (slug) when no host mapping matches. */
  TENANT_HEADER: z.string().default('x-tenant-id'),
  /** Host → tenant mapping, `host=tenant,host2=tenant2`. */
  TENANT_HOSTS: z.string().default(''),
  MAX_QUERY_DEPTH: positiveInt(15),
  MAX_BODY_BYTES: positiveInt(1_000_000),
  /**
   * Which proxies in front of the gateway may set X-Forwarded-For (Express `trust proxy`): a hop count, `true`, or
   * addresses/subnets (`loopback, 10.0.0.0/8`). Default: none — the client IP is the socket's peer.
   */
  TRUST_PROXY: z.string().default(''),
  /** Milliseconds before a subgraph fetch is abandoned with UPSTREAM_UNAVAILABLE. */
  SUBGRAPH_TIMEOUT_MS: positiveInt(15_000),
});

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config);
  return config;
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
