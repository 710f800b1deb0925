import type { Logger } from '@firefly/logger';
import type { JobDefinition } from '@firefly/server-kit';
import type { CreditStore } from '../domain/ports.ts';

export interface SweepOptions {
  store: CreditStore;
  logger: Logger;
  /** Reservations read per round. Default 100. */
  batchSize?: number;
  /** Rounds per sweep at most, so one sweep always ends. Default 10. */
  maxRounds?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * Releases HELD reservations whose expiry has passed (their caller died or forgot), so credits never stay stuck in
 * `reserved`. Each release is the ordinary idempotent close under the account lock, conditioned on the
 * reservation still being HELD and expired: a settle or release racing the sweep wins or loses cleanly, and any
 * number of replicas may sweep at once. A failure on one reservation is logged and the others go on.
 * Resolves with the number released.
 */
export async function sweepExpiredReservations(options: SweepOptions): Promise<number> {
  const batchSize = options.batchSize ?? 100;
  const maxRounds = options.maxRounds ?? 10;
  let released = 0;
  for (let round = 0; round < maxRounds; round++) {
    const now = options.now?.() ?? new Date();
    const expired = await options.store.listExpired(now, batchSize);
    for (const reservation of expired) {
      try {
        const outcome = await options.store.close({ id: reservation.id, tenantId: reservation.tenantId }, { status: 'RELEASED', expiredBy: now, decide: () => ({ charged: 0, entry: null }) });
        if (outcome.kind === 'closed') released++;
      } catch (error) {
        options.logger.error({ err: error, reservationId: reservation.id }, 'could not release an expired reservation');
      }
    }
    if (expired.length < batchSize) break;
  }
  if (released > 0) options.logger.info({ released }, 'released expired reservations');
  return released;
}

/** Every RESERVATION_SWEEP_INTERVAL_SECONDS, release up to RESERVATION_SWEEP_BATCH_SIZE expired holds per round. */
export function sweepExpiredReservationsJob(options: {
  store: CreditStore;
  everyMs: number;
  batchSize?: number;
  /** Called after each sweep with the number released (metrics). */
  onReleased?: (released: number) => void;
}): JobDefinition {
  return {
    name: 'sweep-expired-reservations',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: async ({ logger }) => {
      const released = await sweepExpiredReservations({ store: options.store, logger, batchSize: options.batchSize });
      options.onReleased?.(released);
      return released;
    },
  };
}
