import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import type { PoolConfig } from 'mariadb';
import { createLoggedPool, type PoolLogger } from './driver.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import type { Prisma } from './generated/prisma/client.ts';
import { parseMysqlUrl, POOL_INIT_SQL } from './url.ts';

/** One SQL statement as Prisma reports it: the statement text, its parameters (JSON) and how long it took. */
export type QueryEvent = Prisma.QueryEvent;

/** Options of {@link createDb}. */
export interface CreateDbOptions {
  /** `mysql://user:password@host:port/database`. */
  url: string;
  /**
   * Most connections the pool opens. Default: the URL's `connection_limit` parameter (Prisma's spelling), else 10.
   */
  connectionLimit?: number;
  /**
   * Called after every SQL statement the client sends, including those inside transactions. Meant for tests that
   * count queries (N+1 checks) and for slow-query logging. Default: none, and then query events are not even
   * produced.
   */
  onQuery?: (event: QueryEvent) => void;
  /**
   * Milliseconds to open a TCP connection and finish MySQL's handshake before giving up. Default 3,000: a server
   * that accepts but never answers (a half-dead host, a full backlog) fails the query instead of hanging it.
   */
  connectTimeoutMs?: number;
  /**
   * Milliseconds a query may wait for a pooled connection (all busy, or none can be opened) before it fails.
   * Default 5,000: while MySQL is down requests fail within this, they do not pile up.
   */
  acquireTimeoutMs?: number;
  /**
   * Milliseconds one statement may run; MariaDB aborts it (max_statement_time) and the query fails. Default
   * 30,000. A statement waiting for a row lock gives up after innodb_lock_wait_timeout first (and is retried by
   * transact()).
   */
  queryTimeoutMs?: number;
  /**
   * Where the pool says that it cannot open connections (once per outage, at warn) and that it can again (info).
   * Default: not logged.
   */
  logger?: PoolLogger;
}

/** The Prisma client of this process: every model delegate. Subgraphs should take one of the per-domain views. */
export type Db = PrismaClient;

const DEFAULT_CONNECTION_LIMIT = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_ACQUIRE_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/**
 * The pool pings an idle connection before handing it out once it has been idle this long. The driver's default is
 * 500 ms, and its pool hands out the least recently used idle connection: at a few statements a second per process,
 * that was a ping before nearly every statement — one more round trip on the serial path of every request (measured:
 * 40 statements 100 ms apart on a pool of 10 sent 40 pings; without them SELECT 1 took half the time). A connection
 * the server closed (restart, KILL, wait_timeout) needs no ping: its socket closes and the pool skips it. The ping
 * stays for connections idle longer than this, where a network path may have dropped the flow silently.
 */
const IDLE_VALIDATION_MS = 30_000;

/**
 * Builds the Prisma client over `@prisma/adapter-mariadb`, so no Rust query engine runs: Prisma compiles queries
 * in wasm and the `mariadb` driver executes them. Create one per process and `$disconnect()` it on shutdown.
 */
export function createDb(options: CreateDbOptions): Db {
  // The text protocol: one round trip per statement. The adapter's default, the binary protocol with its statement
  // cache off (Prisma sets prepareCacheLength 0), prepares, executes and closes every statement — two round trips,
  // which the serial path of a chat answer (sendMessage, billing's hold) pays once per query.
  const adapter = adapterFactory(buildPoolConfig(options), options.logger);
  if (options.onQuery === undefined) return new PrismaClient({ adapter });

  const onQuery = options.onQuery;
  // Prisma 7 emits query events from its client-side executor as well, so with a driver adapter every statement
  // (transaction statements included) reaches the listener; see __tests__/client.test.ts, which pins that down.
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event));
  return client;
}

/**
 * Prisma's mariadb adapter over a pool of our own (driver.ts: a failed opening is a failed connection, not an
 * unhandled rejection; outages logged), a new pool each time Prisma connects (it ends the pool when it disconnects).
 */
function adapterFactory(config: PoolConfig, logger: PoolLogger | undefined): Pick<PrismaMariaDb, 'provider' | 'adapterName' | 'connect'> {
  const options = { useTextProtocol: true } as const;
  const { provider, adapterName } = new PrismaMariaDb(config, options);
  return {
    provider,
    adapterName,
    // The adapter sets prepareCacheLength 0 on pools it creates itself, not on one it is given.
    connect: () => new PrismaMariaDb(createLoggedPool({ ...config, prepareCacheLength: 0 }, logger), { ...options, disposeExternalPool: true }).connect(),
  };
}

function buildPoolConfig(options: CreateDbOptions): PoolConfig {
  const url = parseMysqlUrl(options.url);
  if (url.database === '') throw new Error('createDb: the database URL must name a database');
  const connectionLimit = options.connectionLimit ?? readConnectionLimit(url.params) ?? DEFAULT_CONNECTION_LIMIT;
  if (!Number.isInteger(connectionLimit) || connectionLimit < 1) {
    throw new Error(`createDb: connectionLimit must be a positive integer (got ${connectionLimit})`);
  }
  return {
    host: url.host,
    port: url.port,
    user: url.user,
    password: url.password,
    database: url.database,
    connectionLimit,
    // READ COMMITTED for the whole session, so transact() need not set it per transaction (one round trip less), and
    // the statement time limit: in the init SQL, which the driver awaits, rather than its `queryTimeout` option,
    // which sends the same statement without awaiting it (see driver.ts).
    initSql: [...POOL_INIT_SQL, `SET SESSION max_statement_time = ${positive('queryTimeoutMs', options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) / 1_000}`],
    // Degraded dependencies fail fast (issue 10): nothing waits forever for a connection or an answer. The pool
    // reconnects by itself once the server is back, so no restart is needed.
    connectTimeout: positive('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    acquireTimeout: positive('acquireTimeoutMs', options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS),
    minDelayValidation: IDLE_VALIDATION_MS,
  };
}

function readConnectionLimit(params: URLSearchParams): number | undefined {
  const raw = params.get('connection_limit');
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`createDb: connection_limit in the database URL must be a positive integer (got "${raw}")`);
  }
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`createDb: ${name} must be a positive integer (got ${value})`);
  return value;
}
