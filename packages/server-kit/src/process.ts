import type { Logger } from '@firefly/logger';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Wires a process's lifecycle: stop cleanly on SIGTERM/SIGINT (stop accepting, drain, close sockets, exit 0),
 * force-exit after the grace period, and log (never swallow) unhandled rejections.
 */
export function handleProcessSignals(target: Stoppable, logger: Logger, graceSeconds: number): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceSeconds }, 'shutdown grace period exceeded; exiting');
      process.exit(1);
    }, graceSeconds * 1_000);
    force.unref();
    target.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

export interface ServeOptions {
  /** e.g. `user`: the ready line reads `user subgraph ready`. */
  name: string;
  port: number;
  /** The common settings every service's configuration has (HOST, SHUTDOWN_GRACE_SECONDS). */
  config: { HOST: string; SHUTDOWN_GRACE_SECONDS: number };
  logger: Logger;
  /** What the process opened for the server (Redis, MySQL), released in this order after the server stopped. */
  release?: ReadonlyArray<() => Promise<unknown>>;
  /** Extra fields of the ready log line (e.g. which SMS provider or DashScope endpoint is used). */
  details?: Record<string, unknown>;
}

/**
 * The whole of a subgraph's process entry after the build: listen on the configured host and port, log that it
 * is ready, and on SIGTERM/SIGINT stop the server (draining requests and jobs), then release its connections.
 */
export async function serveSubgraph(
  server: Stoppable & { listen(port: number, host?: string): Promise<string>; opsOrigin(): string | undefined },
  options: ServeOptions,
): Promise<string> {
  const url = await server.listen(options.port, options.config.HOST);
  const ops = server.opsOrigin();
  options.logger.info({ url, ...(ops ? { ops } : {}), ...options.details }, `${options.name} subgraph ready`);
  const target: Stoppable = {
    async stop() {
      await server.stop();
      for (const release of options.release ?? []) await release();
    },
  };
  handleProcessSignals(target, options.logger, options.config.SHUTDOWN_GRACE_SECONDS);
  return url;
}
