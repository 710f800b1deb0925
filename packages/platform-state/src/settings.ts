import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { followSharedState, type SharedStateFollower } from './shared-state.ts';

/**
 * System settings operators change at run time (setSetting), MySQL's `Setting` rows shared with every process like the
 * tenants (kind `settings`). A setting that is not set falls back to the process's environment value, which stays the
 * default; secrets and wiring stay in the environment only.
 */
export const SETTINGS_STATE = 'settings';

/** Every setting: its name, what reads it and the bounds of its value (a whole number). */
export const SETTINGS = {
  /** Credits granted on sign-up (billing; env SIGNUP_GRANT_CREDITS). 0 disables the grant. */
  signupGrantCredits: { min: 0, max: 1_000_000 },
  /** Seconds a PENDING order stays payable (billing; env ORDER_TTL_SECONDS). */
  orderTtlSeconds: { min: 60, max: 86_400 },
  /** Answers one user may have generating at once (conversation; env MAX_CONCURRENT_GENERATIONS_PER_USER). */
  maxConcurrentGenerationsPerUser: { min: 1, max: 100 },
  /** Image jobs one user may have QUEUED or RUNNING at once (image; env MAX_ACTIVE_IMAGE_JOBS_PER_USER). */
  maxActiveImageJobsPerUser: { min: 1, max: 100 },
  /**
   * Operations of one signed-in user per minute, any kind (gateway; overrides env RATE_LIMIT_PER_USER, limit/seconds).
   * At least 10, so an admin is never locked out of setting it back.
   */
  rateLimitPerUserPerMinute: { min: 10, max: 1_000_000 },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = Partial<Record<SettingKey, number>>;

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** Reads the shared form back; unknown keys and values out of bounds are left out (the environment applies). */
export function parseSettings(data: unknown): SettingValues {
  const values = (data as { values?: unknown } | null)?.values;
  if (typeof values !== 'object' || values === null) throw new Error('settings: expected { values: {...} }');
  const out: SettingValues = {};
  for (const [key, value] of Object.entries(values)) {
    if (!isSettingKey(key) || typeof value !== 'number' || !Number.isInteger(value)) continue;
    if (value >= SETTINGS[key].min && value <= SETTINGS[key].max) out[key] = value;
  }
  return out;
}

/** What a process reads settings through: the value set at run time, else its environment's. */
export interface RuntimeSettings {
  get(key: SettingKey, environmentDefault: number): number;
  /** The value set at run time; undefined when unset (the environment's value applies). */
  value(key: SettingKey): number | undefined;
  readonly follower: SharedStateFollower<SettingValues>;
}

/** Follows the shared settings in this process's memory (start/stop the follower with the process). */
export function followSettings(options: { redis: Redis; logger: Logger; recheckMs?: number }): RuntimeSettings {
  const follower = followSharedState<SettingValues>({
    redis: options.redis,
    kind: SETTINGS_STATE,
    parse: parseSettings,
    initial: {},
    // A connection of its own for SUBSCRIBE, waiting for Redis rather than failing.
    createSubscriber: () => options.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined }),
    closeSubscriber: async (subscriber) => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
    logger: options.logger,
    ...(options.recheckMs ? { recheckMs: options.recheckMs } : {}),
  });
  return {
    follower,
    get: (key, environmentDefault) => follower.current()[key] ?? environmentDefault,
    value: (key) => follower.current()[key],
  };
}
