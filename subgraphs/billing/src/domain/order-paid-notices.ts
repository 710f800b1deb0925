import type { Logger } from '@firefly/logger';
import type { OrderPaidNoticeRow, OrderPaidNoticeStore } from '../data/order-paid-notices.ts';

/** The user subgraph's `sendOrderPaidSms` as billing uses it; resolves with its outcome, throws when it failed. */
export interface OrderPaidSmsPort {
  send(input: { tenantId: string; orderId: string; userId: string; credits: number; amountFen: number }): Promise<string>;
}

export interface OrderPaidNoticeSettings {
  /** Attempts before a notice is PARKED. */
  maxAttempts: number;
  /** Pause before the 2nd attempt; doubles each time, at most an hour. */
  retryBaseMs: number;
  /** How long a claimed attempt keeps others away (longer than one call can take). */
  leaseMs: number;
}

/** What one delivery attempt ended in (metrics): the user subgraph's outcome in lower case, `retry` or `parked`. */
export type NoticeOutcome = 'sent' | 'no_phone' | 'disabled' | 'unconfirmed' | 'retry' | 'parked';

/**
 * Delivers the payment-success SMS billing owes (OrderPaidNotice, written with PENDING → PAID) by asking the user
 * subgraph, which owns phone numbers and sends at most once per order. Never on the payment's path: the paid order's
 * hook only kicks a delivery without waiting, and the job (jobs/deliver-order-paid-notices.ts) delivers what is due,
 * so a failure, a crash right after the payment or the user subgraph being down only delays the message. A failed
 * attempt is retried with exponential backoff; after `maxAttempts` the notice is PARKED with its last error (logged,
 * counted) for an operator. IN_PROGRESS (another ask is sending right now) is asked again later.
 */
export function createOrderPaidNotices(deps: { store: OrderPaidNoticeStore; port: OrderPaidSmsPort; logger: Logger; settings: OrderPaidNoticeSettings; onOutcome?: (outcome: NoticeOutcome) => void; now?: () => Date }) {
  const now = () => deps.now?.() ?? new Date();

  async function attempt(row: OrderPaidNoticeRow, logger: Logger): Promise<void> {
    const at = now();
    if (!(await deps.store.claim(row, at, new Date(at.getTime() + deps.settings.leaseMs)))) return;
    const attempts = row.attempts + 1;
    let failure: string;
    try {
      const outcome = await deps.port.send({ tenantId: row.tenantId, orderId: row.orderId, userId: row.userId, credits: row.credits, amountFen: row.amountFen });
      if (outcome !== 'IN_PROGRESS') {
        await deps.store.done(row.orderId, outcome);
        deps.onOutcome?.(outcome.toLowerCase() as NoticeOutcome);
        logger.info({ orderId: row.orderId, outcome }, 'payment-success SMS delivered to the user subgraph');
        return;
      }
      failure = 'IN_PROGRESS: another request is sending it';
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (attempts >= deps.settings.maxAttempts) {
      await deps.store.park(row.orderId, failure);
      deps.onOutcome?.('parked');
      logger.error({ orderId: row.orderId, attempts, lastError: failure }, 'payment-success SMS PARKED after its last attempt');
      return;
    }
    const delay = Math.min(deps.settings.retryBaseMs * 2 ** (attempts - 1), 3_600_000);
    await deps.store.retryAt(row.orderId, new Date(now().getTime() + delay), failure);
    deps.onOutcome?.('retry');
    logger.warn({ orderId: row.orderId, attempts, retryInMs: delay, lastError: failure }, 'payment-success SMS not delivered; retrying later');
  }

  return {
    /** Right after an order became PAID: delivers its notice now. Never throws, and nothing waits for it. */
    kick(orderId: string): void {
      void (async () => {
        const row = await deps.store.find(orderId);
        if (row) await attempt(row, deps.logger);
      })().catch((error: unknown) => deps.logger.warn({ err: error, orderId }, 'payment-success SMS kick failed; the job retries'));
    },
    /** Delivers the notices that are due (the job); one failing does not stop the others. */
    async deliverDue(limit: number, logger: Logger = deps.logger): Promise<void> {
      for (const row of await deps.store.listDue(now(), limit)) {
        try {
          await attempt(row, logger);
        } catch (error) {
          logger.warn({ err: error, orderId: row.orderId }, 'payment-success SMS attempt failed; next round tries again');
        }
      }
    },
  };
}

export type OrderPaidNotices = ReturnType<typeof createOrderPaidNotices>;
