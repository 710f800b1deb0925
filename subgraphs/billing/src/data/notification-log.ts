import { createHash, randomUUID } from 'node:crypto';
import type { BillingDb, PaymentChannel, PaymentNotificationVerdict, Prisma, TenantScoped } from '@firefly/db';

/** One received notification as recorded (ADMIN reads: Order.notifications). */
export interface PaymentNotificationView {
  id: string;
  orderId: string | null;
  channel: PaymentChannel;
  verdict: PaymentNotificationVerdict;
  reason: string;
  reference: string | null;
  payloadSha256: string;
  receivedAt: Date;
}

export interface ReceivedNotification {
  channel: PaymentChannel;
  verdict: PaymentNotificationVerdict;
  reason: string;
  /** out_trade_no / out_refund_no as the body names it (unverified when REFUSED). */
  reference?: string | null | undefined;
  /** The order it names, when that is one of ours. */
  order?: { id: string; tenantId: string } | null | undefined;
  rawBody: string;
  receivedAt: Date;
}

/**
 * The record of every payment notification billing received (PaymentNotification): the verdict and why, the order it
 * names, and the SHA-256 of the body as received — never the body itself (it may carry the buyer's account details;
 * the payload of a credited payment is kept on its Payment, without signatures).
 *
 * Group commit: records that arrive while a write is in flight are written together by the next one (one multi-row
 * INSERT), so a burst of duplicate notifications (a provider retrying, 100 concurrent copies) costs a few commits,
 * not one each. `record` resolves once its row is written.
 */
export function createNotificationLog(db: BillingDb) {
  type Row = Prisma.PaymentNotificationCreateManyInput;
  let queue: Array<{ row: Row; done: (error?: unknown) => void }> = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        try {
          await db.paymentNotification.createMany({ data: batch.map((entry) => entry.row) });
          for (const entry of batch) entry.done();
        } catch (error) {
          for (const entry of batch) entry.done(error);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    record(notification: ReceivedNotification): Promise<void> {
      const row: Row = {
        id: randomUUID(),
        channel: notification.channel,
        orderId: notification.order?.id ?? null,
        tenantId: notification.order?.tenantId ?? null,
        reference: notification.reference ? notification.reference.slice(0, 64) : null,
        verdict: notification.verdict,
        reason: notification.reason.slice(0, 64),
        payloadSha256: createHash('sha256').update(notification.rawBody, 'utf8').digest('hex'),
        receivedAt: notification.receivedAt,
      };
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, done: (error) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(String(error)))) });
        if (!writing) void drain();
      });
    },
  };
}

export type NotificationLog = ReturnType<typeof createNotificationLog>;

/** The records of some orders of one tenant, oldest first (Order.notifications, batched by a group loader). */
export function notificationsOf(db: TenantScoped<BillingDb>, tenantId: string) {
  return (orderIds: readonly string[]): Promise<PaymentNotificationView[]> =>
    db.paymentNotification.findMany({
      where: { tenantId, orderId: { in: [...orderIds] } },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      select: { id: true, orderId: true, channel: true, verdict: true, reason: true, reference: true, payloadSha256: true, receivedAt: true },
    });
}
