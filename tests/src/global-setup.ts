// vitest globalSetup for the whole repository: one fresh, migrated and seeded MariaDB database and one Redis key
// prefix per test run, so concurrent runs (two developers, CI and a developer) never see each other's data.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
// Makes the `declare module 'vitest'` below an augmentation of vitest's types rather than a new module.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { createDb, redactUrl, withDatabase } from '@firefly/db';
import { seed } from '@firefly/db/seed';
import {
  createScratchDatabase,
  DEFAULT_TEST_SERVER_URL,
  dropStaleScratchDatabases,
  openConnection,
  type ScratchDatabase,
} from '@firefly/db/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `mysql://…/firefly_test_<random>`: migrated and seeded for this run. */
    databaseUrl: string;
    redisUrl: string;
    /** Prefix every Redis key of this run must start with (`test:<random>:`); deleted at the end. */
    redisKeyPrefix: string;
  }
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const CONNECT_TIMEOUT_MS = 3000;
const SCAN_BATCH = 500;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Only the server of DATABASE_URL is used: the run gets a database of its own on it.
  const serverUrl = withDatabase(process.env.DATABASE_URL ?? DEFAULT_TEST_SERVER_URL, '');
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const runId = randomBytes(6).toString('hex');
  const redisKeyPrefix = `test:${runId}:`;

  await assertMariaDbReachable(serverUrl);
  const redis = await connectRedis(redisUrl);
  // Housekeeping only: a run killed before its teardown leaves its database behind; never fail a run over it.
  await dropStaleScratchDatabases(serverUrl).catch(() => []);

  let database: ScratchDatabase | undefined;
  try {
    database = await createScratchDatabase('firefly_test', { serverUrl });
    const db = createDb({ url: database.url, connectionLimit: 2 });
    try {
      await seed(db);
    } finally {
      await db.$disconnect();
    }
  } catch (error) {
    await database?.drop();
    redis.disconnect();
    throw error;
  }

  // Workers are forked after global setup, so they inherit these; provide() serves inject() in test files.
  process.env.DATABASE_URL = database.url;
  process.env.REDIS_URL = redisUrl;
  process.env.REDIS_KEY_PREFIX = redisKeyPrefix;
  project.provide('databaseUrl', database.url);
  project.provide('redisUrl', redisUrl);
  project.provide('redisKeyPrefix', redisKeyPrefix);

  const scratch = database;
  return async function teardown() {
    try {
      await scratch.drop();
      await deleteKeysWithPrefix(redis, redisKeyPrefix);
    } finally {
      redis.disconnect();
    }
  };
}

async function assertMariaDbReachable(serverUrl: string): Promise<void> {
  try {
    const conn = await openConnection(serverUrl, { serverOnly: true, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    await conn.query('SELECT 1');
    await conn.end();
  } catch (error) {
    throw new Error(
      `MariaDB/MySQL is not reachable at ${redactUrl(serverUrl)} (${messageOf(error)}). ` +
        'Start it (docker compose -f docker/compose.yml up -d mysql) or point DATABASE_URL at a running server.',
      { cause: error },
    );
  }
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Fail fast: a missing Redis should stop the run with one clear error, not retry forever.
    retryStrategy: () => null,
  });
  // ioredis reports the socket error as an event and rejects connect() with a bare "Connection is closed".
  let socketError: unknown;
  redis.on('error', (error: unknown) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `Redis is not reachable at ${redactUrl(url, 'Redis')} (${messageOf(socketError ?? error)}). ` +
        'Start it (docker compose -f docker/compose.yml up -d redis) or point REDIS_URL at a running server.',
      { cause: error },
    );
  }
}

/** SCAN, never KEYS: KEYS blocks a shared Redis for as long as it walks the whole keyspace. */
async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', SCAN_BATCH);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
