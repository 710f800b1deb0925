import { z } from 'zod';

export { z };

/** Thrown at boot when the environment does not describe a valid configuration. Names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Every variable name some configuration of this process has been parsed with. Lets a test hold `.env.example`
 * to the code: each variable read must be documented there, and each documented one must be read.
 */
export const knownVariables = new Set<string>();

/**
 * Parses the environment once into a frozen, typed object. Empty strings count as unset, so `.env` files with
 * `FOO=` fall back to the default. Error messages name the variable and the expected form, never its value
 * (it may be a secret).
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): Readonly<z.infer<S>> {
  const cleaned: Env = {};
  for (const key of Object.keys(schema.shape)) {
    knownVariables.add(key);
    const value = env[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`),
    );
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

// ---- reusable field types -------------------------------------------------------------------------------

export const port = (fallback: number) =>
  z.coerce.number({ error: 'expected a TCP port number' }).int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'expected a whole number' }).int().positive({ error: 'expected a number above 0' }).default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const url = (protocols: string[], fallback?: string) => {
  const base = z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { error: `expected a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` },
  );
  return fallback === undefined ? base : base.default(fallback);
};

/** Replaced with `true` by scripts/bundle.mjs (esbuild `define`) in every built process; absent when run from sources. */
declare const FIREFLY_BUILT: boolean | undefined;

/**
 * NODE_ENV when the variable is unset: `production` for a built process (dist/, as deployed), so a deployment that
 * forgets NODE_ENV refuses development secrets and sends no error details; `development` when run from sources.
 */
const DEFAULT_NODE_ENV = typeof FIREFLY_BUILT !== 'undefined' && FIREFLY_BUILT ? 'production' : 'development';

export const nodeEnv = z.enum(['development', 'test', 'production'], { error: 'expected development, test or production' }).default(DEFAULT_NODE_ENV);
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected a pino level' }).default('info');

/**
 * A development-only default for the secret that signs gateway and service credentials. Production refuses it
 * (see {@link refuseDevelopmentDefaults}); `npm start` and the tests generate a random one per run.
 */
export const DEV_INTERNAL_TOKEN_SECRET = 'firefly-development-only-internal-secret-do-not-use';

/** Variables every process reads. */
export const commonShape = {
  NODE_ENV: nodeEnv,
  LOG_LEVEL: logLevel,
  /** Pretty, human-readable logs (development). Default: false. */
  LOG_PRETTY: bool(false),
  HOST: z.string().default('127.0.0.1'),
  INTERNAL_TOKEN_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).default(DEV_INTERNAL_TOKEN_SECRET),
  /** Seconds to wait for in-flight requests on SIGTERM before closing anyway. */
  SHUTDOWN_GRACE_SECONDS: positiveInt(10),
  /**
   * Serve `/readyz` and `/metrics` on this port only (on HOST), not on the public one, so neither is reachable through
   * the public load balancer; `/healthz` answers on both. Unset: everything on the public port.
   */
  OPS_PORT: z.coerce.number({ error: 'expected a TCP port number' }).int().min(0).max(65535).optional(),
};

export const databaseShape = {
  DATABASE_URL: url(['mysql', 'mariadb'], 'mysql://root@127.0.0.1:3306/firefly'),
  DATABASE_POOL_SIZE: positiveInt(10),
};

export const redisShape = {
  REDIS_URL: url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('ff:'),
};

/** Throws a {@link ConfigError} when a production process would run with a development default. */
export function refuseDevelopmentDefaults(config: { NODE_ENV: string; INTERNAL_TOKEN_SECRET?: string; ACCESS_TOKEN_KEYS?: string | undefined }, extra: string[] = []): void {
  if (config.NODE_ENV !== 'production') return;
  const problems = [...extra];
  if ('ACCESS_TOKEN_KEYS' in config && !config.ACCESS_TOKEN_KEYS) {
    problems.push('ACCESS_TOKEN_KEYS: must be set in production (a JSON array of private Ed25519 JWKs)');
  }
  if (config.INTERNAL_TOKEN_SECRET === DEV_INTERNAL_TOKEN_SECRET) {
    problems.push('INTERNAL_TOKEN_SECRET: must be set to a random secret in production (the development default is public)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Access-token settings shared by the user subgraph (issues tokens) and the gateway (verifies them). */
export const accessTokenShape = {
  /**
   * JSON array of private Ed25519 JWKs with `kid`; the first signs, all verify (rotation). Required in production;
   * in development `npm start` generates one into .data/ and a process without it makes an ephemeral key.
   */
  // An empty default (not optional) so production's refusal below sees the variable was left unset.
  ACCESS_TOKEN_KEYS: z.string().default(''),
  ACCESS_TOKEN_ISSUER: z.string().default('firefly'),
  ACCESS_TOKEN_AUDIENCE: z.string().default('firefly-api'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900),
};

// ---- rate limits ------------------------------------------------------------------------------------------

/** At most `limit` calls per `duration` seconds. */
export interface RateLimitSetting {
  limit: number;
  duration: number;
}

const RATE_LIMIT_PATTERN = /^(\d+)\/(\d+)$/;

function parseRateLimitSetting(value: string): RateLimitSetting | string {
  const match = RATE_LIMIT_PATTERN.exec(value.trim());
  if (!match) return `expected limit/seconds (e.g. 120/60), got "${value}"`;
  const limit = Number(match[1]);
  const duration = Number(match[2]);
  if (limit < 1 || duration < 1) return `limit and seconds must be at least 1, got "${value}"`;
  return { limit, duration };
}

/** A rate limit written `limit/seconds`, e.g. `1200/60` (1,200 calls per minute). */
export const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = parseRateLimitSetting(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    });

/**
 * Parses a list of `@rateLimit` overrides, `Type.field=limit/seconds` (one field) or `Type=limit/seconds` (every
 * field of the type without its own), separated by commas. Throws an Error naming the bad entry.
 */
export function parseRateLimitOverrides(value: string): Map<string, RateLimitSetting> {
  const overrides = new Map<string, RateLimitSetting>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)=(.*)$/.exec(entry);
    const setting = match ? parseRateLimitSetting(match[2]!) : `expected Type.field=limit/seconds or Type=limit/seconds entries separated by commas, got "${entry}"`;
    if (typeof setting === 'string') throw new Error(setting);
    overrides.set(match![1]!, setting);
  }
  return overrides;
}

/** A list of `@rateLimit` overrides (see {@link parseRateLimitOverrides}); default none. */
export const rateLimitOverrides = () =>
  z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      try {
        parseRateLimitOverrides(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    });
