import { createAccessTokenIssuer, type AccessClaims } from '@firefly/auth';
import { createPartnerRevocations, type PartnerRevocations } from '@firefly/auth/partner-keys';
import { createSessionStore, type SessionStore } from '@firefly/auth/sessions';
import { createPiiCrypto } from '@firefly/crypto';
import { SETTINGS_STATE, sharedRevision, shareState, TENANTS_STATE } from '@firefly/platform-state';
import type { Redis } from '@firefly/redis';
import { createSmsProvider, type SmsProvider } from '@firefly/sms';
import type { UserConfig } from './config.ts';
import { createSettingRepository, readSettingState, type SettingRepository } from './data/settings.ts';
import { createTenantLookup, createTenantRepository, readTenantState, stateRevisionOf, type TenantRepository } from './data/tenants.ts';
import { createUserPii, type UserPii } from './data/user-pii.ts';
import { createLoginThrottle, type LoginThrottle } from './domain/login-throttle.ts';
import { createPasswordHasher, type PasswordHasher } from './domain/passwords.ts';
import { createSecretBox, type SecretBox } from './domain/secret-box.ts';
import { createSignupGrants, type SignupGrants } from './domain/signup-grants.ts';
import { createSmsCodes, type SmsCodes } from './domain/sms-codes.ts';
import type { SessionHooks, UserDeps } from './server.ts';

/** The user subgraph's process-wide services, built once per server and shared by every request and job. */
export interface UserServices {
  redis: Redis;
  hasher: PasswordHasher;
  /** The SMS provider: verification codes (through smsCodes) and payment-success notices. */
  sms: SmsProvider;
  smsCodes: SmsCodes;
  loginThrottle: LoginThrottle;
  sessionStore: SessionStore;
  issueAccessToken: (claims: AccessClaims) => Promise<string>;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  hooks: SessionHooks;
  signupGrants: SignupGrants;
  tenantExists: (tenantId: string) => Promise<boolean>;
  /** Revocation and suspension markers every gateway replica checks on every partner request. */
  partnerRevocations: PartnerRevocations;
  /** Seals partner signing secrets at rest. */
  secretBox: SecretBox;
  /** Seals users' emails and phones at rest and computes their blind indexes (PII_KEYS, PII_INDEX_KEY). */
  pii: UserPii;
  /** Every tenant (platform admins; not tenant-scoped). */
  tenants: TenantRepository;
  /** System settings (platform admins; not tenant-scoped). */
  settings: SettingRepository;
  /** Copies MySQL-owned state every process reads (tenants) into Redis and announces it (@firefly/platform-state). */
  platformState: PlatformStateSharing;
}

export interface PlatformStateSharing {
  /** Shares the tenants as MySQL holds them now; true when Redis held an older revision. */
  shareTenants(): Promise<boolean>;
  /** Shares the tenants only when Redis's revision is behind MySQL's (the sync job); true when it did. */
  syncTenants(): Promise<boolean>;
  /** Shares the system settings as MySQL holds them now. */
  shareSettings(): Promise<boolean>;
  /** Shares the system settings only when Redis's revision is behind MySQL's; true when it did. */
  syncSettings(): Promise<boolean>;
}

export async function createUserServices(config: UserConfig, deps: UserDeps): Promise<UserServices> {
  const { redis, logger } = deps;
  const sms = deps.smsProvider ?? createSmsProvider(config);
  if (!sms.sendsOrderPaid) logger.warn('no payment-success SMS template (ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE): paid orders send no SMS');
  const issuer = createAccessTokenIssuer(deps.signingKeys, {
    issuer: config.ACCESS_TOKEN_ISSUER,
    audience: config.ACCESS_TOKEN_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  return {
    redis,
    hasher: await createPasswordHasher({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }),
    sms,
    smsCodes: createSmsCodes({
      redis,
      provider: sms,
      secret: config.INTERNAL_TOKEN_SECRET,
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
      secret: config.INTERNAL_TOKEN_SECRET,
      settings: {
        maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        accountWindowSeconds: config.LOGIN_ACCOUNT_WINDOW_SECONDS,
        maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
        ipWindowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
      },
    }),
    sessionStore: createSessionStore(redis, { revocationTtlMs: config.REFRESH_TOKEN_TTL_SECONDS * 1000 }),
    issueAccessToken: (claims) => issuer.issue(claims),
    accessTokenTtlSeconds: issuer.ttlSeconds,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    refreshReuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
    hooks: deps.hooks ?? {},
    signupGrants: createSignupGrants({ port: deps.signupGrant, redis, logger }),
    tenantExists: createTenantLookup(deps.db),
    partnerRevocations: createPartnerRevocations(redis),
    secretBox: createSecretBox(config.INTERNAL_TOKEN_SECRET, 'partner-signing-secret'),
    tenants: createTenantRepository(deps.db),
    settings: createSettingRepository(deps.db),
    platformState: createPlatformStateSharing(deps.db, redis),
    pii: createUserPii(createPiiCrypto(config)),
  };
}

function createPlatformStateSharing(db: UserDeps['db'], redis: Redis): PlatformStateSharing {
  return {
    shareTenants: async () => shareState(redis, TENANTS_STATE, await readTenantState(db)),
    syncTenants: async () => {
      if ((await sharedRevision(redis, TENANTS_STATE)) >= (await stateRevisionOf(db, TENANTS_STATE))) return false;
      return shareState(redis, TENANTS_STATE, await readTenantState(db));
    },
    shareSettings: async () => shareState(redis, SETTINGS_STATE, await readSettingState(db)),
    syncSettings: async () => {
      if ((await sharedRevision(redis, SETTINGS_STATE)) >= (await stateRevisionOf(db, SETTINGS_STATE))) return false;
      return shareState(redis, SETTINGS_STATE, await readSettingState(db));
    },
  };
}
