/**
 * The `mariadb` driver's pool, as createDb builds it for Prisma's adapter, with a failure path of the driver (3.4.5,
 * pinned by @prisma/adapter-mariadb) turned from an unhandled rejection into what it is: a connection that could not
 * be opened, which the pool retries and a waiting query reports (pool timeout, 45028 → UPSTREAM_UNAVAILABLE, service
 * mysql).
 *
 * Opening a connection runs a chain after the handshake (SET NAMES, the pool's initSql…). When a step fails — the
 * connect timeout fired while the init SQL was in flight (seen at load 40–60), MySQL died mid-open — the chain's last
 * `catch` rejects the connect promise as it should, then returns `Promise.reject(err)` from a chain nobody awaits: an
 * unhandled ER_INITIAL_SQL_ERROR (upstream removed that rethrow in 3.5). Each step is wrapped here so that, while the
 * connection is opening, a failed step does what the chain's `catch` does (fail the connect) and the rest of the
 * chain never runs, so there is nothing left to reject.
 *
 * The driver's own `queryTimeout` option is not used: it sends `SET max_statement_time` on a promise nobody awaits
 * either (an unhandled ER_INITIAL_TIMEOUT_ERROR when the connection dies right then, still so in 3.5); createDb puts
 * that statement into the awaited init SQL instead.
 *
 * The pool reports that it cannot open connections with an 'error' event (which the driver's createPool swallows
 * with a listener of its own); it is logged here, once per outage, and so is the first connection after it.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createPool, type Pool, type PoolConfig } from 'mariadb';

const require = createRequire(import.meta.url);

/** What createDb logs pool errors through (a pino logger fits). */
export interface PoolLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

interface DriverError extends Error {
  fatal?: boolean;
}

/** The parts of the driver's (internal) Connection this module touches. */
interface DriverConnection {
  status: number;
  authFailHandler(error: DriverError): void;
  end(resolve: () => void, reject: () => void): void;
}

type OpeningStep = (this: DriverConnection, ...args: unknown[]) => Promise<unknown>;

/** The steps authSucceedHandler chains after the handshake, in its order. */
const OPENING_STEPS = ['executeSessionVariableQuery', 'handleCharset', 'handleTimezone', 'checkServerVersion', 'executeInitQuery', 'executeSessionTimeout'];

const PATCHED_VERSION = '3.4.5';
const PATCHED = Symbol.for('firefly.db.mariadbOpeningSteps');

/**
 * Wraps the opening steps of the driver's Connection (once per process; createLoggedPool and openConnection call it). Only for the driver version read here:
 * another version is left alone, and packages/db's pool-failures test says whether it still needs this.
 */
export function handleFailedOpenings(): void {
  const version = (require('mariadb/package.json') as { version: string }).version;
  if (version !== PATCHED_VERSION) return;
  const Connection = require('mariadb/lib/connection.js') as { prototype: Record<string | symbol, unknown> };
  const { Status } = require('mariadb/lib/const/connection_status.js') as { Status: { CONNECTED: number } };
  const prototype = Connection.prototype;
  if (prototype[PATCHED]) return;
  prototype[PATCHED] = true;
  for (const name of OPENING_STEPS) {
    const step = prototype[name];
    if (typeof step !== 'function') throw new Error(`mariadb ${version}: Connection.${name} is not a function`);
    prototype[name] = function (this: DriverConnection, ...args: unknown[]): Promise<unknown> {
      // A connected connection runs these from reset(), whose caller handles a rejection.
      if (this.status === Status.CONNECTED) return (step as OpeningStep).apply(this, args);
      return Promise.resolve()
        .then(() => (step as OpeningStep).apply(this, args))
        .catch((error: DriverError) => {
          // What authSucceedHandler's catch does, minus its rethrow: fail the connect (once; later calls are no-ops).
          if (error.fatal) {
            this.authFailHandler(error);
          } else {
            const fail = () => this.authFailHandler(error);
            this.end(fail, fail);
          }
          // The rest of the chain never runs: nothing is left to reject.
          return new Promise<never>(() => undefined);
        });
    };
  }
}

/** A pool whose failures to open connections are logged, once per outage (see the module comment). */
export function createLoggedPool(config: PoolConfig, logger: PoolLogger | undefined): Pool {
  handleFailedOpenings();
  const pool = createPool(config);
  // The driver's typings name neither event; both are emitted (lib/pool-promise.js).
  const events = pool as unknown as EventEmitter;
  let failingSince: number | undefined;
  events.on('error', (error: Error & { code?: unknown; cause?: unknown }) => {
    if (failingSince !== undefined) return;
    failingSince = Date.now();
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    logger?.warn({ err: { message: error.message, ...(typeof error.code === 'string' ? { code: error.code } : {}), ...(cause ? { cause } : {}) } }, 'mysql pool cannot open connections');
  });
  events.on('connection', () => {
    if (failingSince === undefined) return;
    logger?.info({ downMs: Date.now() - failingSince }, 'mysql pool opens connections again');
    failingSince = undefined;
  });
  return pool;
}
