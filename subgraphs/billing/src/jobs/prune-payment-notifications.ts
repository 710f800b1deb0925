import type { BillingDb, OrderStatus } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import type { JobDefinition } from '@firefly/server-kit';

/**
 * Orders whose payment story is not finished: a PENDING order may still be paid (or be found paid by the
 * reconciliation), a REFUNDING one waits for the provider's refund result. Their notifications are what an operator
 * reads when that story goes wrong, so they are kept past the retention until the order settles.
 */
const UNFINISHED: readonly OrderStatus[] = ['PENDING', 'REFUNDING'];

export interface PruneOptions {
  db: Pick<BillingDb, 'paymentNotification' | 'order'>;
  logger: Logger;
  /** Notifications received more than this long ago are deleted. */
  retentionMs: number;
  /** Rows read (and deleted) per round. Default 500. */
  batchSize?: number;
  /** Rounds per run at most, so one run always ends (the next run goes on). Default 20. */
  maxRounds?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * Deletes PaymentNotification rows older than the retention, oldest first, in small batches (a short DELETE by primary
 * key each, never one long statement), except those naming an order that is still PENDING or REFUNDING. The rows are
 * a log (verdict, reason, SHA-256 of the body): nothing else refers to them, and a credited payment's payload stays on
 * its Payment. Safe on any number of replicas at once (deleting a deleted row deletes nothing). Resolves with the
 * number deleted.
 */
export async function prunePaymentNotifications(options: PruneOptions): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const maxRounds = options.maxRounds ?? 20;
  const cutoff = new Date((options.now?.() ?? new Date()).getTime() - options.retentionMs);
  let deleted = 0;
  // Keyset position within this run: rows kept for an unfinished order are not read again by the next round.
  let after: { receivedAt: Date; id: string } | undefined;
  for (let round = 0; round < maxRounds; round++) {
    const rows = await options.db.paymentNotification.findMany({
      where: {
        receivedAt: { lt: cutoff },
        ...(after ? { OR: [{ receivedAt: { gt: after.receivedAt } }, { receivedAt: after.receivedAt, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
      select: { id: true, orderId: true, receivedAt: true },
    });
    if (rows.length === 0) break;
    after = rows.at(-1)!;
    const orderIds = [...new Set(rows.flatMap((row) => (row.orderId ? [row.orderId] : [])))];
    const unfinished = new Set(
      orderIds.length === 0 ? [] : (await options.db.order.findMany({ where: { id: { in: orderIds }, status: { in: [...UNFINISHED] } }, select: { id: true } })).map((order) => order.id),
    );
    const ids = rows.filter((row) => !row.orderId || !unfinished.has(row.orderId)).map((row) => row.id);
    if (ids.length > 0) deleted += (await options.db.paymentNotification.deleteMany({ where: { id: { in: ids } } })).count;
    if (rows.length < batchSize) break;
  }
  if (deleted > 0) options.logger.info({ deleted, olderThan: cutoff.toISOString() }, 'pruned payment notification records past their retention');
  return deleted;
}

/**
 * Every PAYMENT_NOTIFICATION_PRUNE_INTERVAL_SECONDS, delete the notification records older than
 * PAYMENT_NOTIFICATION_RETENTION_DAYS. Not scheduled when the retention is 0 (kept forever).
 */
export function prunePaymentNotificationsJob(options: { db: PruneOptions['db']; retentionDays: number; everyMs: number; batchSize?: number }): JobDefinition {
  return {
    name: 'prune-payment-notifications',
    trigger: { kind: 'interval', everyMs: options.everyMs },
    handler: ({ logger }) =>
      prunePaymentNotifications({ db: options.db, logger, retentionMs: options.retentionDays * 86_400_000, ...(options.batchSize ? { batchSize: options.batchSize } : {}) }),
  };
}
