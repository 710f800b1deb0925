import { accessTokenShape, commonShape, ConfigError, databaseShape, parseConfig, port, positiveInt, rateLimitOverrides, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';
import { piiConfigProblems, piiShape } from '@firefly/crypto';
import { smsConfigProblems, smsShape } from '@firefly/sms';

/**
 * OWASP's Password Storage Cheat Sheet lists equivalent argon2id settings (m=47104 t=1, m=19456 t=2,
 * m=12288 t=3, m=9216 t=4, m=7168 t=5, all p=1): the floor is memory × passes ≥ 19456 KiB × 2 with at least
 * 7 MiB of memory. A configuration below it is refused at boot.
 */
const OWASP_MIN_ARGON2 = { memoryKib: 7168, memoryTimesPasses: 19_456 * 2 };

const schema = z
  .object({
    ...commonShape,
    ...databaseShape,
    ...redisShape,
    ...accessTokenShape,
    ...smsShape,
    ...piiShape,
    USER_SUBGRAPH_PORT: port(4001),
    /** Billing's GraphQL endpoint: registration books the sign-up grant there with a service credential. */
    BILLING_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4004/graphql'),
    /** argon2id memory in KiB. Default 19456 (19 MiB, OWASP). */
    ARGON2_MEMORY_KIB: positiveInt(19_456),
    /** argon2id passes. Default 2. */
    ARGON2_TIME_COST: positiveInt(2),
    /** argon2id lanes. Default 1. */
    ARGON2_PARALLELISM: positiveInt(1),
    /** Life of a session and its refresh token, renewed by every refreshSession (sliding). Default 30 days. */
    REFRESH_TOKEN_TTL_SECONDS: positiveInt(30 * 86_400),
    /**
     * How often partners' persisted query lists are compared between MySQL and Redis, and copied to Redis where it is
     * behind (a publish whose copy failed, a Redis that lost its data). Default 30 s.
     */
    PERSISTED_QUERY_LIST_SYNC_SECONDS: positiveInt(30),
    /**
     * How often the tenants' revision in MySQL is compared with the copy every process reads from Redis, and the copy
     * replaced where it is behind (a change whose copy failed, a Redis that lost its data). Default 10 s.
     */
    PLATFORM_STATE_SYNC_SECONDS: positiveInt(10),
    /**
     * How often partners' revocation and suspension markers in Redis are reconciled with MySQL (markers lost with
     * Redis's data written again; the marker of a reactivated partner whose removal failed removed). Default 30 s.
     */
    PARTNER_MARKER_SYNC_SECONDS: positiveInt(30),
    /**
     * For this long after a refresh token was rotated, presenting it again (a second tab refreshing at the same
     * moment) returns the same new refresh token instead of revoking the session as a replay. Default 10.
     */
    REFRESH_REUSE_GRACE_SECONDS: positiveInt(10),
    SMS_CODE_TTL_SECONDS: positiveInt(300),
    /** Wrong codes allowed before the code is destroyed. Default 5. */
    SMS_CODE_MAX_ATTEMPTS: positiveInt(5),
    /** Seconds between two codes to the same phone. Default 60. */
    SMS_COOLDOWN_SECONDS: positiveInt(60),
    /** Codes per phone per 24 h. Default 10. */
    SMS_DAILY_CAP_PER_PHONE: positiveInt(10),
    /** Codes requested from one client IP per 24 h. Default 30. */
    SMS_DAILY_CAP_PER_IP: positiveInt(30),
    /** Failed logins of one account (any IP) before it is throttled. Default 10 per 15 min, then 15 min. */
    LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt(10),
    LOGIN_ACCOUNT_WINDOW_SECONDS: positiveInt(900),
    /** Failed logins from one client IP (any account) before it is throttled. Default 100 per hour, then 1 h. */
    LOGIN_MAX_FAILURES_PER_IP: positiveInt(100),
    LOGIN_IP_WINDOW_SECONDS: positiveInt(3_600),
    /**
     * Overrides of the `@rateLimit` values in schema.graphql, per field:
     * `Mutation.login=30/60,Mutation.register=10/600` (limit/seconds). Default: none (the schema's values).
     */
    USER_RATE_LIMITS: rateLimitOverrides(),
  })
  .superRefine((config, ctx) => {
    const work = config.ARGON2_MEMORY_KIB * config.ARGON2_TIME_COST;
    if (config.ARGON2_MEMORY_KIB < OWASP_MIN_ARGON2.memoryKib || work < OWASP_MIN_ARGON2.memoryTimesPasses) {
      ctx.addIssue({
        code: 'custom',
        path: ['ARGON2_MEMORY_KIB'],
        message: 'argon2id below the OWASP minimum: need ARGON2_MEMORY_KIB ≥ 7168 and ARGON2_MEMORY_KIB × ARGON2_TIME_COST ≥ 38912 (e.g. 19456 × 2)',
      });
    }
  });

export type UserConfig = ReturnType<typeof loadUserConfig>;

export function loadUserConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  const smsProblems = smsConfigProblems(config);
  // PII keys: required in production, the public development keys refused there; an unknown active key id anywhere.
  const piiProblems = piiConfigProblems(config);
  refuseDevelopmentDefaults(config, [...smsProblems, ...piiProblems]);
  // Outside production, an incomplete Aliyun configuration or PII keyring is still unusable (the console provider is fine).
  if (smsProblems.length > 0 || piiProblems.length > 0) throw new ConfigError([...smsProblems, ...piiProblems]);
  return config;
}
