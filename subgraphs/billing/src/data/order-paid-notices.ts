import type { BillingDb } from '@firefly/db';

export interface OrderPaidNoticeRow {
  orderId: string;
  tenantId: string;
  userId: string;
  credits: number;
  amountFen: number;
  attempts: number;
  nextAttemptAt: Date;
}

const select = { orderId: true, tenantId: true, userId: true, credits: true, amountFen: true, attempts: true, nextAttemptAt: true } as const;

/**
 * The outbox of payment-success SMS (OrderPaidNotice; every tenant: the delivery job serves them all). Rows are written
 * by markPaid (order-store.ts). A delivery claims its row by a conditional update that pushes nextAttemptAt past a
 * lease, so replicas and the post-payment kick never ask twice at once; the user subgraph's once-per-order log makes
 * a repeated ask harmless anyway.
 */
export function createOrderPaidNoticeStore(db: BillingDb) {
  return {
    /** PENDING notices due at `now`, oldest first. */
    listDue(now: Date, limit: number): Promise<OrderPaidNoticeRow[]> {
      return db.orderPaidNotice.findMany({ where: { state: 'PENDING', nextAttemptAt: { lte: now } }, orderBy: { nextAttemptAt: 'asc' }, take: limit, select });
    },
    find(orderId: string): Promise<OrderPaidNoticeRow | null> {
      return db.orderPaidNotice.findFirst({ where: { orderId, state: 'PENDING' }, select });
    },
    /** Takes a due notice for one attempt (attempts + 1, not due again before `leaseUntil`); false when another did. */
    async claim(row: OrderPaidNoticeRow, now: Date, leaseUntil: Date): Promise<boolean> {
      const { count } = await db.orderPaidNotice.updateMany({
        where: { orderId: row.orderId, state: 'PENDING', attempts: row.attempts, nextAttemptAt: { lte: now } },
        data: { attempts: row.attempts + 1, nextAttemptAt: leaseUntil },
      });
      return count === 1;
    },
    async done(orderId: string, outcome: string): Promise<void> {
      await db.orderPaidNotice.updateMany({ where: { orderId, state: 'PENDING' }, data: { state: 'DONE', outcome, lastError: null } });
    },
    async retryAt(orderId: string, nextAttemptAt: Date, lastError: string): Promise<void> {
      await db.orderPaidNotice.updateMany({ where: { orderId, state: 'PENDING' }, data: { nextAttemptAt, lastError: lastError.slice(0, 512) } });
    },
    async park(orderId: string, lastError: string): Promise<void> {
      await db.orderPaidNotice.updateMany({ where: { orderId, state: 'PENDING' }, data: { state: 'PARKED', lastError: lastError.slice(0, 512) } });
    },
  };
}

export type OrderPaidNoticeStore = ReturnType<typeof createOrderPaidNoticeStore>;
