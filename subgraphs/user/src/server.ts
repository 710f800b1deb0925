import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { createAccessTokenIssuer, type SigningKey } from '@firefly/auth';
import { createSessionStore } from '@firefly/auth/sessions';
import type { UserDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { createSubgraphServer, type ReadinessCheck } from '@firefly/server-kit';
import { createSmsProvider, type SmsProvider } from '@firefly/sms';
import { parseRateLimitOverrides, type UserConfig } from './config.ts';
import { createUserContext } from './context.ts';
import { createTenantLookup } from './data/tenants.ts';
import { createLoginThrottle } from './domain/login-throttle.ts';
import { createPasswordHasher } from './domain/passwords.ts';
import { applyRateLimitOverrides, createRateLimitTransform } from './domain/rate-limits.ts';
import type { IdentityServices } from './domain/scope.ts';
import { createSignupGrants, type SignupGrantPort } from './domain/signup-grants.ts';
import { createSmsCodes } from './domain/sms-codes.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export type { UserConfig } from './config.ts';
export { loadUserConfig } from './config.ts';
export type { SignupGrantPort } from './domain/signup-grants.ts';

export interface BuildUserSubgraphOptions {
  db: UserDb;
  /** Sessions, SMS codes, rate-limit counters. Its keyPrefix isolates environments (and test runs). */
  redis: Redis;
  config: UserConfig;
  /** Private access-token keys; the first signs (ACCESS_TOKEN_KEYS). */
  signingKeys: SigningKey[];
  /** Billing's sign-up grant (the credits client in production). */
  signupGrant: SignupGrantPort;
  /** Default: the provider SMS_PROVIDER names. */
  smsProvider?: SmsProvider;
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  exposeErrorDetails?: boolean;
  onStop?: () => Promise<void>;
}

/** Builds the user subgraph without listening (tests drive it; src/main.ts runs it). */
export async function buildUserSubgraph(options: BuildUserSubgraphOptions) {
  const { config, redis, logger } = options;
  const issuer = createAccessTokenIssuer(options.signingKeys, {
    issuer: config.ACCESS_TOKEN_ISSUER,
    audience: config.ACCESS_TOKEN_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const signupGrants = createSignupGrants({ port: options.signupGrant, redis, logger });
  const services: IdentityServices = {
    redis,
    hasher: await createPasswordHasher({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }),
    smsCodes: createSmsCodes({
      redis,
      provider: options.smsProvider ?? createSmsProvider(config),
      secret: options.internalTokenSecret,
      logger,
      settings: {
        ttlSeconds: config.SMS_CODE_TTL_SECONDS,
        maxAttempts: config.SMS_CODE_MAX_ATTEMPTS,
        cooldownSeconds: config.SMS_COOLDOWN_SECONDS,
        dailyCapPerPhone: config.SMS_DAILY_CAP_PER_PHONE,
        dailyCapPerIp: config.SMS_DAILY_CAP_PER_IP,
      },
    }),
    loginThrottle: createLoginThrottle({
      redis,
      secret: options.internalTokenSecret,
      settings: {
        maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        accountWindowSeconds: config.LOGIN_ACCOUNT_WINDOW_SECONDS,
        maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
        ipWindowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
      },
    }),
    sessionStore: createSessionStore(redis),
    issueAccessToken: (claims) => issuer.issue(claims),
    accessTokenTtlSeconds: issuer.ttlSeconds,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    signupGrants,
    tenantExists: createTenantLookup(options.db),
  };
  signupGrants.start();

  return createSubgraphServer({
    name: 'user',
    typeDefs: applyRateLimitOverrides(parse(typeDefs), parseRateLimitOverrides(config.USER_RATE_LIMITS)),
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger,
    transformSchema: createRateLimitTransform(redis),
    createContext: (base) => createUserContext({ db: options.db, services }, base),
    readiness: [{ name: 'redis', check: () => redis.ping() }, ...(options.readiness ?? [])],
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: async () => {
      await signupGrants.stop();
      await options.onStop?.();
    },
  });
}
