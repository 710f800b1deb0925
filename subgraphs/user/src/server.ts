import { isDatabaseUnavailableError } from '@firefly/db';
import { upstreamUnavailable } from '@firefly/errors';
import { readFileSync } from 'node:fs';
import type { SigningKey } from '@firefly/auth';
import type { Db, UserDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, mysqlReadiness, redisReadiness, type SubgraphServer } from '@firefly/server-kit';
import type { SmsProvider } from '@firefly/sms';
import type { UserConfig } from './config.ts';
import { createUserContext } from './context.ts';
import type { SignupGrantPort } from './domain/signup-grants.ts';
import { sharePlatformStateJob } from './jobs/share-platform-state.ts';
import { retrySignupGrantsJob } from './jobs/retry-signup-grants.ts';
import { syncPartnerMarkersJob } from './jobs/sync-partner-markers.ts';
import { syncPersistedQueryListsJob } from './jobs/sync-persisted-query-lists.ts';
import { resolvers } from './resolvers/index.ts';
import { createUserServices } from './services.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export { loadUserConfig, type UserConfig } from './config.ts';
export type { SignupGrantPort } from './domain/signup-grants.ts';
export { loginFailureKeys, userRedisKeys } from './domain/redis-keys.ts';

/** What the process hands the user subgraph; it releases them itself after stop(). */
export interface UserDeps {
  db: UserDb & Pick<Db, '$queryRaw'>;
  /** Sessions, SMS codes, rate-limit counters. Its keyPrefix isolates environments (and test runs). */
  redis: Redis;
  logger: Logger;
  /** Private access-token keys; the first signs (ACCESS_TOKEN_KEYS). */
  signingKeys: SigningKey[];
  /** Billing's sign-up grant (the credits client in production). */
  signupGrant: SignupGrantPort;
  /** Default: the provider SMS_PROVIDER names. */
  smsProvider?: SmsProvider;
  /** Points in the session lifecycle where a test can act to drive a race deterministically. Default none. */
  hooks?: SessionHooks;
}

/** Test seams of the session lifecycle; production passes none. */
export interface SessionHooks {
  /** After a refresh rotated its token in MySQL, before it saves the live record in Redis. */
  afterRefreshRotated?: (sessionId: string) => Promise<void>;
}

/** Builds the user subgraph without listening (tests drive it; src/main.ts runs it). */
export async function buildUserSubgraph(config: UserConfig, deps: UserDeps): Promise<SubgraphServer> {
  const services = await createUserServices(config, deps);
  // Every process reads the tenants from Redis: copy them there now if Redis is behind (then every sync interval).
  services.platformState.syncTenants().catch((error: unknown) => deps.logger.warn({ err: error }, 'sharing the tenants at start failed; the sync job retries'));
  services.platformState.syncSettings().catch((error: unknown) => deps.logger.warn({ err: error }, 'sharing the settings at start failed; the sync job retries'));
  return createSubgraphServer({
    // MySQL unreachable (refused, timed out, no pooled connection in time): UPSTREAM_UNAVAILABLE, not INTERNAL.
    classifyError: (error) => (isDatabaseUnavailableError(error) ? upstreamUnavailable('The database is unavailable', { service: 'mysql' }) : undefined),
    name: 'user',
    typeDefs,
    resolvers,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    logger: deps.logger,
    environment: config,
    rateLimits: { redis: deps.redis, per: 'client-ip', overrides: config.USER_RATE_LIMITS },
    createContext: (base) => createUserContext(deps, services, base),
    readiness: [redisReadiness(deps.redis), mysqlReadiness(deps.db)],
    jobs: [
      retrySignupGrantsJob({ signupGrants: services.signupGrants }),
      syncPersistedQueryListsJob({ db: deps.db, redis: deps.redis, everyMs: config.PERSISTED_QUERY_LIST_SYNC_SECONDS * 1000 }),
      sharePlatformStateJob({ sharing: services.platformState, everyMs: config.PLATFORM_STATE_SYNC_SECONDS * 1000 }),
      syncPartnerMarkersJob({ db: deps.db, redis: deps.redis, everyMs: config.PARTNER_MARKER_SYNC_SECONDS * 1000 }),
    ],
  });
}
