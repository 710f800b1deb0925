/**
 * A supergraph of separate processes for the subscription scenarios: the gateway from gateway/src/main.ts on a
 * supergraph composed at test time (@firefly/supergraph) from the real subgraphs plus, optionally, the probe
 * subgraph; real MariaDB (this run's database) and Redis (this run's key prefix).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessTokenIssuer, generateSigningKey, type Role, type SigningKey } from '@firefly/auth';
import { createSessionStore, type SessionStore } from '@firefly/auth/sessions';
import { createDb, type Db } from '@firefly/db';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { composeSupergraph, formatCompositionErrors, loadSubgraphs, type SubgraphSource } from '@firefly/supergraph';
import { PROBE_SDL } from './subscription-probe.ts';
import { startProcess, type ManagedProcess } from './subscription-processes.ts';

export type ServiceName = 'user' | 'billing' | 'conversation' | 'image' | 'probe';

const ENTRIES: Record<ServiceName, { entry: string; portVar: string }> = {
  user: { entry: 'subgraphs/user/src/main.ts', portVar: 'USER_SUBGRAPH_PORT' },
  billing: { entry: 'subgraphs/billing/src/main.ts', portVar: 'BILLING_SUBGRAPH_PORT' },
  conversation: { entry: 'subgraphs/conversation/src/main.ts', portVar: 'CONVERSATION_SUBGRAPH_PORT' },
  image: { entry: 'subgraphs/image/src/main.ts', portVar: 'IMAGE_SUBGRAPH_PORT' },
  probe: { entry: 'tests/src/subscription-probe-main.ts', portVar: 'PROBE_PORT' },
};

/** Nothing listens here: a subgraph the scenario does not start is unreachable, as it would be when down. */
const UNREACHABLE = 'http://127.0.0.1:9/graphql';

export interface StackOptions {
  /** Subgraph processes to start (one replica each unless `replicas` says more). */
  services: ServiceName[];
  replicas?: Partial<Record<ServiceName, number>>;
  /** Gateway replicas (each its own process). Default 1. */
  gateways?: number;
  /** Extra environment for every process (e.g. DASHSCOPE_BASE_URL). */
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Extra `node` flags for the gateways (e.g. `--cpu-prof`). */
  gatewayNodeArgs?: string[];
  /** Extra `node` flags per service (e.g. `--cpu-prof`). */
  serviceNodeArgs?: Partial<Record<ServiceName, string[]>>;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** How long each process may take to say it is ready (default 60 s; a loaded machine may need more). */
  readyTimeoutMs?: number;
}

export interface Stack {
  gateways: ManagedProcess[];
  /** Replicas per service, in start order. */
  services: Partial<Record<ServiceName, ManagedProcess[]>>;
  db: Db;
  redis: Redis;
  sessions: SessionStore;
  signingKey: SigningKey;
  internalTokenSecret: string;
  /** Common environment of every process (secrets, database, Redis). */
  env: Record<string, string>;
  /** ws:// URL of a gateway's /graphql. */
  wsUrl(gateway?: number): string;
  httpUrl(gateway?: number): string;
  /** A real access token for a seeded user, with a live session in Redis. */
  tokenFor(user: { id: string; tenantId: string; roles?: Role[] }, options?: { ttlSeconds?: number }): Promise<{ token: string; sessionId: string }>;
  /** POST a GraphQL request to a gateway. */
  request(query: string, options?: { variables?: Record<string, unknown>; token?: string; gateway?: number }): Promise<{ status: number; body: any }>;
  /** Starts one more gateway replica on the same supergraph. */
  addGateway(env?: Record<string, string>): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/**
 * Waits for every start, then throws the first failure: a failed start does not leave the others still starting
 * (and missing from what the caller stops).
 */
async function settleAll(starts: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(starts)).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Starts the requested services, composes a supergraph with their URLs (the probe included when requested), and
 * starts the gateway(s) on it. A conversation replica count above 1 routes the gateway to the first replica;
 * tests address the others directly.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through `npm test` (vitest globalSetup creates the database)');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = process.env.REDIS_KEY_PREFIX ?? `test:${randomBytes(4).toString('hex')}:`;
  const internalTokenSecret = randomBytes(32).toString('hex');
  const signingKey = await generateSigningKey(`subs-${randomUUID().slice(0, 8)}`);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    INTERNAL_TOKEN_SECRET: internalTokenSecret,
    ACCESS_TOKEN_KEYS: JSON.stringify([signingKey.privateJwk]),
    SHUTDOWN_GRACE_SECONDS: '10',
    ...options.env,
  };
  const started: ManagedProcess[] = [];
  const services: Partial<Record<ServiceName, ManagedProcess[]>> = {};
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop(5_000)));
  };

  try {
    // Billing first: the user subgraph books sign-up grants there.
    const order: ServiceName[][] = [options.services.filter((s) => s === 'billing'), options.services.filter((s) => s !== 'billing')];
    for (const group of order) {
      await settleAll(
        group.flatMap((name) =>
          Array.from({ length: options.replicas?.[name] ?? 1 }, async () => {
            const spec = ENTRIES[name];
            const process = await startProcess(name, spec.entry, {
              ...env,
              [spec.portVar]: '0',
              BILLING_SUBGRAPH_URL: services.billing?.[0]?.url ?? UNREACHABLE,
              ...options.serviceEnv?.[name],
            }, { ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }), nodeArgs: options.serviceNodeArgs?.[name] ?? [] });
            started.push(process);
            (services[name] ??= []).push(process);
          }),
        ),
      );
    }

    const urlOf = (name: ServiceName) => services[name]?.[0]?.url ?? UNREACHABLE;
    const sources: SubgraphSource[] = loadSubgraphs({ user: urlOf('user'), conversation: urlOf('conversation'), image: urlOf('image'), billing: urlOf('billing') });
    if (options.services.includes('probe')) sources.push({ name: 'probe', url: urlOf('probe'), sdl: PROBE_SDL, path: 'probe.graphql' });
    const composed = composeSupergraph(sources);
    if (!composed.ok) throw new Error(`composition failed:\n${formatCompositionErrors(composed.errors)}`);
    const dir = mkdtempSync(join(tmpdir(), 'firefly-subs-'));
    const supergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);

    const gatewayEnv = {
      ...env,
      GATEWAY_PORT: '0',
      SUPERGRAPH_PATH: supergraphPath,
      USER_SUBGRAPH_URL: urlOf('user'),
      CONVERSATION_SUBGRAPH_URL: urlOf('conversation'),
      IMAGE_SUBGRAPH_URL: urlOf('image'),
      BILLING_SUBGRAPH_URL: urlOf('billing'),
      ...options.gatewayEnv,
    };
    const gateways: ManagedProcess[] = [];
    const addGateway = async (extra: Record<string, string> = {}) => {
      const gateway = await startProcess(`gateway-${gateways.length + 1}`, 'gateway/src/main.ts', { ...gatewayEnv, ...extra }, { nodeArgs: options.gatewayNodeArgs ?? [], ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }) });
      started.push(gateway);
      gateways.push(gateway);
      return gateway;
    };
    await settleAll(Array.from({ length: options.gateways ?? 1 }, () => addGateway()));

    const db = createDb({ url: databaseUrl, connectionLimit: 4 });
    const redis = createRedis({ url: redisUrl, keyPrefix, name: 'subscription-tests' });
    const sessions = createSessionStore(redis);
    const issuerFor = (ttlSeconds: number) => createAccessTokenIssuer([signingKey], { issuer: 'firefly', audience: 'firefly-api', ttlSeconds });

    return {
      gateways,
      services,
      db,
      redis,
      sessions,
      signingKey,
      internalTokenSecret,
      env,
      wsUrl: (index = 0) => gateways[index]!.url.replace(/^http/, 'ws'),
      httpUrl: (index = 0) => gateways[index]!.url,
      async tokenFor(user, tokenOptions = {}) {
        const session = { sessionId: randomUUID(), userId: user.id, tenantId: user.tenantId, roles: user.roles ?? (['USER'] as Role[]), expiresAt: Date.now() + 3_600_000 };
        await sessions.save(session);
        return { token: await issuerFor(tokenOptions.ttlSeconds ?? 900).issue(session), sessionId: session.sessionId };
      },
      async request(query, { variables, token, gateway = 0 } = {}) {
        const response = await fetch(gateways[gateway]!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, body: await response.json() };
      },
      addGateway,
      async stop() {
        await stopAll();
        await db.$disconnect();
        await closeRedis(redis);
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
