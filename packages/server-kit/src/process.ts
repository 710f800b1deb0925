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
