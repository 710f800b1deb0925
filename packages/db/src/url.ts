/**
 * Parsing of `mysql://` URLs into the settings the `mariadb` driver takes, shared by the Prisma client factory,
 * the migration runner and the test helpers so that all three read a URL the same way.
 */

/** The parts of a `mysql://user:password@host:port/database?…` URL. */
export interface MysqlUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Empty when the URL names no database (server-level URL). */
  database: string;
  /** Query-string parameters, e.g. `connection_limit`. */
  params: URLSearchParams;
}

const DEFAULT_PORT = 3306;

/**
 * Parses a `mysql://` (or `mariadb://`) URL. User name and password are percent-decoded, as Prisma does, so a
 * password containing `@` or `/` can be written `%40` / `%2F`.
 */
export function parseMysqlUrl(url: string): MysqlUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid database URL: expected mysql://user:password@host:port/database`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(`invalid database URL: protocol must be mysql:// (got ${parsed.protocol}//)`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === '') throw new Error('invalid database URL: no host');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database.includes('/')) throw new Error(`invalid database URL: database name must not contain "/"`);
  return {
    host,
    port: parsed.port === '' ? DEFAULT_PORT : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    database,
    params: parsed.searchParams,
  };
}

/** The same server with another database (or none, for server-level statements such as CREATE DATABASE). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = database === '' ? '/' : `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** A URL (database, Redis, …) safe to print: the password replaced by `***`. */
export function redactUrl(url: string, what = 'database'): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return `<unparseable ${what} URL>`;
  }
}

/** Backtick-quotes a MySQL identifier (database, table or column name). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/**
 * Settings every connection we open gets. The Prisma adapter writes DateTime values as UTC strings; pinning the
 * session time zone to UTC makes `CURRENT_TIMESTAMP(3)` defaults (raw inserts, migration bookkeeping) agree.
 */
export const SESSION_INIT_SQL = "SET time_zone = '+00:00'";

/**
 * What every pooled connection of the Prisma client runs once when it opens: the session settings above, and READ
 * COMMITTED as the session's isolation level, which every transaction of ours runs at (see transaction.ts). Set once
 * per connection instead of per transaction: Prisma's `isolationLevel` option sends `SET TRANSACTION ISOLATION LEVEL`
 * before every BEGIN, one more round trip on the way to each hold, settlement and booking. The standard statement
 * (not a system variable, whose name differs between MariaDB releases and MySQL). The driver sends both at once.
 */
export const POOL_INIT_SQL: readonly string[] = [SESSION_INIT_SQL, 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'];
