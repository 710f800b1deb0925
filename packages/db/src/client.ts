import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import type { PoolConfig } from 'mariadb';
import { PrismaClient } from './generated/prisma/client.ts';
import type { Prisma } from './generated/prisma/client.ts';
import { parseMysqlUrl, SESSION_INIT_SQL } from './url.ts';

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
}

/** The Prisma client of this process: every model delegate. Subgraphs should take one of the per-domain views. */
export type Db = PrismaClient;

const DEFAULT_CONNECTION_LIMIT = 10;

/**
 * Builds the Prisma client over `@prisma/adapter-mariadb`, so no Rust query engine runs: Prisma compiles queries
 * in wasm and the `mariadb` driver executes them. Create one per process and `$disconnect()` it on shutdown.
 */
export function createDb(options: CreateDbOptions): Db {
  const adapter = new PrismaMariaDb(buildPoolConfig(options));
  if (options.onQuery === undefined) return new PrismaClient({ adapter });

  const onQuery = options.onQuery;
  // Prisma 7 emits query events from its client-side executor as well, so with a driver adapter every statement
  // (transaction statements included) reaches the listener; see __tests__/client.test.ts, which pins that down.
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event));
  return client;
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
    initSql: SESSION_INIT_SQL,
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
