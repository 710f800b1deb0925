import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from '@firefly/logger';
import { createMetrics, type Metrics } from './metrics.ts';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** A named dependency probed by `/readyz` (MySQL, Redis, an upstream). Resolve when healthy, throw when not. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
}

export interface HttpShellOptions {
  /** Name in health answers, logs and the metrics' `service` label, e.g. `gateway` or `subgraph-user`. */
  service: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  /**
   * Serve `/readyz` and `/metrics` on this port instead of the public one (`/healthz` stays on both), so neither is
   * reachable through the public load balancer. Undefined: everything on the public port. 0 picks a free port.
   */
  opsPort?: number | undefined;
  /** Middleware in front of every route of the public app, health routes included (e.g. security headers). */
  before?: express.RequestHandler[];
}

/** Takes a request before Express sees it (returns true: it answers it itself), or leaves it to Express (false). */
export type FirstHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface HttpShell {
  /** The public Express app; the caller mounts GraphQL and its own routes on it. */
  app: Express;
  httpServer: HttpServer;
  metrics: Metrics;
  /** Starts listening (and the ops listener, when there is one); resolves with the GraphQL URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Origin of the ops listener once listening (`http://host:port`), or undefined without an ops port. */
  opsOrigin(): string | undefined;
  /**
   * A handler offered every public request before Express (and before the `before` middleware): the subgraphs' hot
   * path, GraphQL POSTs, skips Express's routing and body parsing this way. One at most; it must answer what it takes.
   */
  handleFirst(handler: FirstHandler): void;
  /**
   * A stop function that runs once however often it is called: `stopApp` (Apollo's stop, which drains the HTTP
   * server), closing the listeners, then `onStop` (the owner's clients).
   */
  createStop(stopApp: () => Promise<void>, onStop?: () => Promise<void>): () => Promise<void>;
}

/**
 * The HTTP shell every process shares — gateway and subgraphs alike: Express 5 on a Node HTTP server, `/healthz`
 * (liveness: the event loop answers), `/readyz` (every readiness check within 2 s), `/metrics` (Prometheus), an
 * optional separate ops port, listen and an idempotent stop. The caller adds GraphQL on top.
 */
export function createHttpShell(options: HttpShellOptions): HttpShell {
  const { service } = options;
  const metrics = createMetrics(service);
  const app = express();
  app.disable('x-powered-by');
  for (const middleware of options.before ?? []) app.use(middleware);
  let first: FirstHandler | undefined;
  const httpServer = createServer((req, res) => {
    if (first?.(req, res)) return;
    app(req, res);
  });
  // Keep idle connections open longer than any client or load balancer does (undici and Node's agent give up after
  // about 4 s, cloud load balancers after 60 s): with Node's 5 s, a loaded client could send its next request on a
  // connection the server was closing at that moment, and that request fails without an answer (ECONNRESET).
  httpServer.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  httpServer.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  const ops = options.opsPort === undefined ? undefined : express();
  let opsServer: HttpServer | undefined;
  let opsOrigin: string | undefined;
  const opsApp = ops ?? app;
  ops?.disable('x-powered-by');

  const healthz: express.RequestHandler = (_req, res) => {
    res.json({ status: 'ok', service });
  };
  app.get('/healthz', healthz);
  ops?.get('/healthz', healthz);
  opsApp.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      (options.readiness ?? []).map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2_000);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', service, checks: results });
  });
  opsApp.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return {
    app,
    httpServer,
    metrics,
    async listen(port, host) {
      const url = await listenForGraphQL(httpServer, port, host);
      if (ops && options.opsPort !== undefined) {
        opsServer = createServer(ops);
        const opsUrl = await listenForGraphQL(opsServer, options.opsPort, host);
        opsOrigin = new URL(opsUrl).origin;
      }
      return url;
    },
    opsOrigin: () => opsOrigin,
    handleFirst(handler) {
      if (first) throw new Error('createHttpShell: handleFirst was already called');
      first = handler;
    },
    createStop(stopApp, onStop) {
      let stopping: Promise<void> | null = null;
      return () => {
        stopping ??= (async () => {
          await stopApp();
          if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
          if (opsServer?.listening) {
            const server = opsServer;
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
          }
          await onStop?.();
        })();
        return stopping;
      };
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Starts listening and resolves with the GraphQL URL. Port 0 picks a free port. */
function listenForGraphQL(httpServer: HttpServer, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      const address = httpServer.address() as AddressInfo;
      resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}/graphql`);
    });
  });
}
