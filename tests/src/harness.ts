import { randomBytes, randomUUID } from 'node:crypto';
import { createAccessTokenIssuer, generateSigningKey, publicJwks, type Role, type SigningKey } from '@firefly/auth';
import { createSessionStore } from '@firefly/auth/sessions';
import { createCreditsClient } from '@firefly/credits-client';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { createDb, type Db, type QueryEvent } from '@firefly/db';
import { createLogger, type Logger } from '@firefly/logger';
import { buildUserSubgraph, loadUserConfig, type SessionHooks } from '@firefly/subgraph-user';
import { buildConversationSubgraph, loadConversationConfig } from '@firefly/subgraph-conversation';
import { startDashScopeSimulator, type DashScopeSimulator, type DashScopeSimulatorOptions } from '@firefly/dashscope-simulator';
import { generatePaymentKeySet, merchantEnvOf, simulatorKeysOf, startPaymentSimulator, type PaymentSimulator } from '@firefly/payments-simulator';
import { buildImageSubgraph, loadImageConfig } from '@firefly/subgraph-image';
import { startOssSimulator, type OssSimulator } from '@firefly/oss-simulator';
import { buildBillingSubgraph, createUserSmsClient, loadBillingConfig } from '@firefly/subgraph-billing';
import { createGatewayServer, loadGatewayConfig } from '@firefly/gateway';
import type { SubgraphServer } from '@firefly/server-kit';
import { createTokenAuthenticator } from '@firefly/gateway/auth';
import { freePort } from './processes.ts';
import { getGlobalDispatcher } from 'undici';

export interface Supergraph {
  gatewayUrl: string;
  subgraphUrls: Record<'user' | 'conversation' | 'image' | 'billing', string>;
  db: Db;
  internalTokenSecret: string;
  /** This run's Redis (keys under REDIS_KEY_PREFIX), as the subgraphs and the gateway use it. */
  redis: Redis;
  /** The access-token key the user subgraph signs with and the gateway verifies with (to craft bad tokens). */
  signingKey: SigningKey;
  /** The DashScope simulator the conversation subgraph talks to. */
  simulator: DashScopeSimulator;
  /** The environment the image subgraph was configured with (an image worker started by a test reuses it). */
  imageEnv: Record<string, string>;
  /** The OSS simulator the image subgraph stores images in and signs URLs for (through the real ali-oss client). */
  oss: OssSimulator;
  /** The payment simulator (Alipay + WeChat Pay) the billing subgraph talks to; its notifications go to the gateway. */
  payments: PaymentSimulator;
  /** The running subgraph servers (e.g. to stop one and watch the gateway cope). */
  servers: Record<'user' | 'conversation' | 'image' | 'billing', SubgraphServer>;
  /** SQL statements sent by the subgraphs since the last `resetQueryLog()`. */
  queries: QueryEvent[];
  resetQueryLog(): void;
  /** A real access token for a user row (signed with this run's key, verified by the gateway), with a live session. */
  tokenFor(user: { id: string; tenantId: string; roles?: Role[] }): Promise<string>;
  /** POSTs a GraphQL request to the gateway. */
  request(query: string, options?: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> }): Promise<GraphQLResponse>;
  /** Starts another gateway replica on the same subgraphs, Redis and keys (stopped with the supergraph). Returns its URL. */
  startGateway(env?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

export interface GraphQLResponse {
  status: number;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: unknown[] }> };
}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through `npm test` (vitest globalSetup creates the database)');
  return url;
}

/**
 * Starts the four subgraphs and the gateway in this process, on free ports, against this run's database,
 * exactly as their main.ts files wire them (same builders, real HTTP between gateway and subgraphs).
 */
export async function startSupergraph(
  options: {
    logger?: Logger;
    env?: Record<string, string>;
    simulator?: DashScopeSimulatorOptions;
    userHooks?: SessionHooks;
    redisUrl?: string;
    /** Environment of the user subgraph or the gateway only, over `env` (e.g. NODE_ENV=production for one of them). */
    processEnv?: Partial<Record<'user' | 'gateway', Record<string, string>>>;
    /** The URL the user subgraph books sign-up grants at, given billing's (e.g. a TCP proxy's, to take billing away). */
    billingUrlForUser?: (billingUrl: string) => Promise<string>;
  } = {},
): Promise<Supergraph> {
  const logger = options.logger ?? createLogger({ service: 'e2e', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const internalTokenSecret = randomBytes(32).toString('hex');
  const queries: QueryEvent[] = [];
  const db = createDb({ url: databaseUrl(), connectionLimit: 10, onQuery: (event) => queries.push(event) });
  const common = { db, logger };
  // Every process's Redis (a test may put a proxy in front of it to take it away).
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis({ url: redisUrl, keyPrefix: process.env.REDIS_KEY_PREFIX, name: 'e2e', logger });
  const key = await generateSigningKey('e2e');
  // `env` overrides the user subgraph's and the gateway's configuration (e.g. SMS provider, limits).
  const env = { NODE_ENV: 'test', INTERNAL_TOKEN_SECRET: internalTokenSecret, ...options.env };
  // Billing listens after the user subgraph is built: resolve its URL at call time (and billing the user subgraph's,
  // where it asks for a paid order's SMS).
  let billingUrl = '';
  let userUrl = '';
  let userBillingUrl = '';
  const signupGrant = {
    grantSignupCredits: (input: { tenantId: string; userId: string; requestId?: string }): Promise<unknown> =>
      createCreditsClient({ url: userBillingUrl, secret: internalTokenSecret, service: 'user' }).grantSignupCredits(input),
  };

  // The conversation subgraph generates through the DashScope simulator (fast tokens unless the test says otherwise).
  const simulator = await startDashScopeSimulator({ tokenDelayMs: 5, ...options.simulator });
  const conversationConfig = loadConversationConfig({
    ...env,
    DASHSCOPE_BASE_URL: simulator.baseUrl,
    DASHSCOPE_API_KEY: simulator.apiKey,
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX,
    // stop() lets running generations finish for 5 s (the grace period minus 2 s), then cuts them off.
    SHUTDOWN_GRACE_SECONDS: '7',
  });
  const oss = await startOssSimulator();
  // The image subgraph and the image workers share this run's Redis prefix (queue, progress streams) and the simulators.
  const imageEnv = {
    ...env,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? '',
    OSS_ENDPOINT: oss.localUrl,
    DASHSCOPE_BASE_URL: simulator.baseUrl,
    DASHSCOPE_API_KEY: simulator.apiKey,
  };
  // Billing's calls go wherever billing listens by then.
  const toBilling = getGlobalDispatcher().compose((dispatch) => (request, handler) => dispatch({ ...request, origin: new URL(billingUrl).origin }, handler));
  const imageCredits = createCreditsClient({ url: 'http://billing.invalid/graphql', secret: internalTokenSecret, service: 'image', dispatcher: toBilling });
  const conversationCredits = createCreditsClient({
    url: 'http://billing.invalid/graphql',
    secret: internalTokenSecret,
    service: 'conversation',
    // As main.ts wires it: the configured per-attempt timeout.
    timeoutMs: conversationConfig.BILLING_TIMEOUT_MS,
    logger,
    dispatcher: toBilling,
  });

  // Payments run against the payment simulator with a fresh key set; its notifications go to the gateway, whose port
  // is picked now so that billing knows its notify URL before the gateway listens.
  const gatewayPort = await freePort();
  const paymentKeys = generatePaymentKeySet();
  const payments = await startPaymentSimulator({ ...simulatorKeysOf(paymentKeys), notifyRetryMs: [100, 200, 400, 800, 1_600, 3_200], wechatRefundDelayMs: 100 });
  const billingEnv = { ...env, ...merchantEnvOf(paymentKeys, payments.url), PAYMENT_NOTIFY_BASE_URL: `http://127.0.0.1:${gatewayPort}`, ...options.env };

  const subgraphs = {
    user: await buildUserSubgraph(loadUserConfig({ ...env, ...options.processEnv?.user }), { ...common, redis, signingKeys: [key], signupGrant, ...(options.userHooks ? { hooks: options.userHooks } : {}) }),
    conversation: await buildConversationSubgraph(conversationConfig, { ...common, redis, credits: conversationCredits }),
    image: await buildImageSubgraph(loadImageConfig(imageEnv), { ...common, redis, credits: imageCredits }),
    billing: await buildBillingSubgraph(loadBillingConfig(billingEnv), {
      ...common,
      redis,
      orderPaidSms: createUserSmsClient({ url: 'http://user.invalid/graphql', secret: internalTokenSecret, fetch: (_url, init) => fetch(userUrl, init) }),
    }),
  };
  const subgraphUrls = {
    user: await subgraphs.user.listen(0),
    conversation: await subgraphs.conversation.listen(0),
    image: await subgraphs.image.listen(0),
    billing: await subgraphs.billing.listen(0),
  };
  billingUrl = subgraphUrls.billing;
  userUrl = subgraphUrls.user;
  userBillingUrl = options.billingUrlForUser ? await options.billingUrlForUser(billingUrl) : billingUrl;

  const gatewayEnv = {
    // This run's Redis and key prefix (sessions, revocation channel), unless a test overrides them.
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX,
    ...env,
    ...options.processEnv?.gateway,
    // Tests play clients behind a proxy on localhost: X-Forwarded-For picks the client IP (rate limits, SMS caps).
    TRUST_PROXY: 'loopback',
    INTERNAL_TOKEN_SECRET: internalTokenSecret,
    USER_SUBGRAPH_URL: subgraphUrls.user,
    CONVERSATION_SUBGRAPH_URL: subgraphUrls.conversation,
    IMAGE_SUBGRAPH_URL: subgraphUrls.image,
    BILLING_SUBGRAPH_URL: subgraphUrls.billing,
  };
  const config = loadGatewayConfig(gatewayEnv);
  const sessions = createSessionStore(redis);
  const gateway = await createGatewayServer({ config, logger, authenticate: createTokenAuthenticator(publicJwks([key]), config, { sessions }), jwks: publicJwks([key]) });
  const gatewayUrl = await gateway.listen(gatewayPort);
  const moreGateways: Array<{ stop(): Promise<void> }> = [];
  const issuer = createAccessTokenIssuer([key], { issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });

  return {
    gatewayUrl,
    subgraphUrls,
    servers: subgraphs,
    db,
    internalTokenSecret,
    redis,
    signingKey: key,
    simulator,
    oss,
    payments,
    imageEnv,
    queries,
    resetQueryLog: () => void queries.splice(0),
    async tokenFor(user) {
      const session = { sessionId: randomUUID(), userId: user.id, tenantId: user.tenantId, roles: user.roles ?? (['USER'] as Role[]), expiresAt: Date.now() + 3_600_000 };
      await sessions.save(session);
      return issuer.issue(session);
    },
    async request(query, { variables, token, headers } = {}) {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
    },
    async startGateway(extraEnv = {}) {
      const replicaConfig = loadGatewayConfig({ ...gatewayEnv, ...extraEnv });
      const replica = await createGatewayServer({
        config: replicaConfig,
        logger,
        authenticate: createTokenAuthenticator(publicJwks([key]), replicaConfig, { sessions }),
        jwks: publicJwks([key]),
      });
      moreGateways.push(replica);
      return replica.listen(0);
    },
    async stop() {
      await Promise.all(moreGateways.map((replica) => replica.stop()));
      await gateway.stop();
      await Promise.all(Object.values(subgraphs).map((s) => s.stop()));
      await db.$disconnect();
      await closeRedis(redis);
      await simulator.close();
      await oss.close();
      await payments.close();
    },
  };
}
