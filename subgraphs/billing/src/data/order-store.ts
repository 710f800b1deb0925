import { randomUUID } from 'node:crypto';
import { isUniqueConstraintError, recordAudit, transact, type AuditActor, type BillingDb, type OrderStatus, type PaymentChannel } from '@firefly/db';
import { newSortableId } from '../domain/ids.ts';
import type { ConfirmedPayment } from '../domain/payment-ports.ts';
import type { AccountRef } from '../domain/ports.ts';
import type { OrderView } from './orders.ts';

const select = {
  id: true,
  tenantId: true,
  userId: true,
  productId: true,
  amountFen: true,
  credits: true,
  channel: true,
  status: true,
  payUrl: true,
  qrCodeUrl: true,
  expiresAt: true,
  paidAt: true,
  createdAt: true,
  outTradeNo: true,
  refundedFen: true,
} as const;

export type OrderRow = OrderView & { outTradeNo: string; refundedFen: number };

export interface NewOrder {
  id: string;
  tenantId: string;
  userId: string;
  productId: string;
  amountFen: number;
  credits: number;
  channel: PaymentChannel;
  outTradeNo: string;
  expiresAt: Date;
  createdAt: Date;
}

/**
 * The write side of orders (every tenant; callers pass the tenant). State changes are conditional updates on the
 * current status, so two actors racing on one order (a cancel and a notification, two sweepers) cannot both win.
 */
export function createOrderStore(db: BillingDb) {
  return {
    async insert(order: NewOrder): Promise<OrderRow> {
      return db.order.create({ data: { ...order, status: 'PENDING' }, select });
    },
    /** A product of the tenant, active or not. */
    findProduct(tenantId: string, id: string) {
      return db.product.findFirst({ where: { tenantId, id }, select: { id: true, name: true, credits: true, priceFen: true, active: true } });
    },
    find(tenantId: string, id: string): Promise<OrderRow | null> {
      return db.order.findFirst({ where: { tenantId, id }, select });
    },
    /** Any tenant (jobs). */
    findById(id: string): Promise<OrderRow | null> {
      return db.order.findUnique({ where: { id }, select });
    },
    findByOutTradeNo(outTradeNo: string): Promise<OrderRow | null> {
      return db.order.findUnique({ where: { outTradeNo }, select });
    },
    /** PENDING orders of the user that have not expired yet, oldest first. */
    listOpen(tenantId: string, userId: string, now: Date): Promise<Array<Pick<OrderRow, 'id' | 'expiresAt' | 'createdAt'>>> {
      return db.order.findMany({
        where: { tenantId, userId, status: 'PENDING', expiresAt: { gt: now } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, expiresAt: true, createdAt: true },
      });
    },
    async setInstruction(id: string, instruction: { qrCodeUrl: string | null; payUrl: string | null }): Promise<void> {
      await db.order.updateMany({ where: { id, status: 'PENDING' }, data: instruction });
    },
    /** PENDING → CLOSED; false when the order was no longer PENDING. */
    async closeIfPending(id: string, now: Date): Promise<boolean> {
      const { count } = await db.order.updateMany({ where: { id, status: 'PENDING' }, data: { status: 'CLOSED' satisfies OrderStatus, closedAt: now } });
      return count === 1;
    },

    /**
     * PENDING → PAID, the PURCHASE ledger entry (idempotency key `purchase:<order id>`) and the Payment record, in ONE
     * transaction. The conditional UPDATE of the order row is the gate: a second notification, a racing query or a
     * late retry waits for the first one's row lock, then finds the order no longer PENDING and changes nothing
     * (0 rows). Lock order: order row, then the account row (as every credit transaction takes it), so this cannot
     * deadlock with reservations. A crash before COMMIT leaves the order PENDING: the provider's retry credits it.
     * The OrderPaidNotice (the buyer's SMS, owed) is written in the same transaction, so it exists exactly when the
     * order is PAID, however the process ends right after.
     */
    async markPaid(order: Pick<OrderRow, 'id' | 'tenantId' | 'userId' | 'credits' | 'channel' | 'amountFen'>, account: AccountRef, payment: ConfirmedPayment): Promise<boolean> {
      return transact(db, async (tx) => {
        const now = new Date();
        const moved = await tx.order.updateMany({ where: { id: order.id, status: 'PENDING' }, data: { status: 'PAID', paidAt: payment.paidAt ?? now } });
        if (moved.count === 0) return false;
        await tx.creditAccount.updateMany({ where: { id: account.id }, data: { available: { increment: order.credits } } });
        const balance = await tx.creditAccount.findUniqueOrThrow({ where: { id: account.id }, select: { available: true, reserved: true } });
        const createdAt = new Date();
        await tx.ledgerEntry.create({
          data: {
            id: newSortableId(createdAt.getTime()),
            createdAt,
            tenantId: order.tenantId,
            accountId: account.id,
            userId: order.userId,
            delta: order.credits,
            balanceAfter: balance.available + balance.reserved,
            reason: 'PURCHASE',
            referenceId: order.id,
            idempotencyKey: `purchase:${order.id}`,
            note: null,
          },
        });
        await tx.payment.create({
          data: { id: randomUUID(), tenantId: order.tenantId, orderId: order.id, channel: payment.channel, providerTradeNo: payment.providerTradeNo, amountFen: payment.amountFen, payload: payment.payload },
        });
        // The buyer's payment-success SMS, owed from this commit on (domain/order-paid-notices.ts delivers it).
        await tx.orderPaidNotice.create({
          data: { orderId: order.id, tenantId: order.tenantId, userId: order.userId, credits: order.credits, amountFen: order.amountFen, nextAttemptAt: now },
        });
        return true;
      });
    },

    /** Keeps a provider transaction that credits nothing (a payment for a CLOSED order); once per provider trade. */
    async recordPayment(order: Pick<OrderRow, 'id' | 'tenantId'>, payment: ConfirmedPayment): Promise<void> {
      try {
        await db.payment.create({
          data: { id: randomUUID(), tenantId: order.tenantId, orderId: order.id, channel: payment.channel, providerTradeNo: payment.providerTradeNo, amountFen: payment.amountFen, payload: payment.payload },
        });
      } catch (error) {
        if (!isUniqueConstraintError(error)) throw error;
      }
    },

    /**
     * PAID / PARTIALLY_REFUNDED → REFUNDING and a PROCESSING Refund, in one transaction, conditioned on the order's
     * status and refunded amount being what the caller read: two admins refunding at once cannot both start.
     */
    /** With `by`, the `refundOrder` audit event is written in the same transaction. */
    async startRefund(order: Pick<OrderRow, 'id' | 'tenantId' | 'status' | 'refundedFen'>, refund: { id: string; outRefundNo: string; amountFen: number; reason: string }, by?: AuditActor): Promise<boolean> {
      return transact(db, async (tx) => {
        const moved = await tx.order.updateMany({ where: { id: order.id, status: order.status, refundedFen: order.refundedFen }, data: { status: 'REFUNDING' } });
        if (moved.count === 0) return false;
        await tx.refund.create({ data: { ...refund, tenantId: order.tenantId, orderId: order.id, status: 'PROCESSING' } });
        if (by) {
          const details = { refundId: refund.id, amountFen: refund.amountFen, reason: refund.reason, statusBefore: order.status };
          await recordAudit(tx, { ...by, action: 'refundOrder', targetType: 'Order', targetId: order.id, details });
        }
        return true;
      });
    },

    findRefund(where: { id: string } | { outRefundNo: string }) {
      return db.refund.findFirst({ where, select: { id: true, orderId: true, outRefundNo: true, amountFen: true, status: true } });
    },

    listProcessingRefunds(limit: number) {
      return db.refund.findMany({ where: { status: 'PROCESSING' }, orderBy: { createdAt: 'asc' }, take: limit, select: { id: true, orderId: true, outRefundNo: true, amountFen: true, status: true } });
    },

    /**
     * A refund the provider completed: Refund SUCCEEDED, the order's refunded amount and status (REFUNDED when all of
     * it, else PARTIALLY_REFUNDED), and the REFUND ledger entry taking back the refunded share of the credits — in
     * one transaction, once (the Refund's conditional update is the gate). Credits already spent are not taken: the
     * balance never goes below zero, and the entry's note records the shortfall. Resolves with the order (as it was
     * before) when this call completed the refund, null when it was already finished.
     */
    async completeRefund(refundId: string, account: (order: OrderRow) => Promise<AccountRef>): Promise<OrderRow | null> {
      const refund = await db.refund.findUniqueOrThrow({ where: { id: refundId } });
      const order = (await db.order.findUniqueOrThrow({ where: { id: refund.orderId }, select })) as OrderRow;
      const ref = await account(order);
      return transact(db, async (tx) => {
        const now = new Date();
        const claimed = await tx.refund.updateMany({ where: { id: refundId, status: 'PROCESSING' }, data: { status: 'SUCCEEDED', finishedAt: now } });
        if (claimed.count === 0) return null;
        const current = await tx.order.findUniqueOrThrow({ where: { id: order.id }, select: { refundedFen: true, amountFen: true, credits: true } });
        const refundedFen = current.refundedFen + refund.amountFen;
        await tx.order.update({ where: { id: order.id }, data: { refundedFen, status: refundedFen >= current.amountFen ? 'REFUNDED' : 'PARTIALLY_REFUNDED' } });
        // The refunded share of the credits, cumulative so that a full refund takes back exactly all of them.
        const share = (fen: number) => Math.round((current.credits * fen) / current.amountFen);
        const owed = share(refundedFen) - share(current.refundedFen);
        await tx.creditAccount.updateMany({ where: { id: ref.id }, data: { updatedAt: now } });
        const before = await tx.creditAccount.findUniqueOrThrow({ where: { id: ref.id }, select: { available: true, reserved: true } });
        const taken = Math.min(owed, before.available);
        if (taken > 0) await tx.creditAccount.updateMany({ where: { id: ref.id, available: { gte: taken } }, data: { available: { decrement: taken } } });
        if (owed > 0) {
          const createdAt = new Date();
          await tx.ledgerEntry.create({
            data: {
              id: newSortableId(createdAt.getTime()),
              createdAt,
              tenantId: order.tenantId,
              accountId: ref.id,
              userId: order.userId,
              delta: -taken,
              balanceAfter: before.available + before.reserved - taken,
              reason: 'REFUND',
              referenceId: order.id,
              idempotencyKey: `refund:${refundId}`,
              note: taken < owed ? `refund of ${refund.amountFen} fen: ${owed - taken} of ${owed} credits were already spent and not taken back` : `refund of ${refund.amountFen} fen`,
            },
          });
        }
        return order;
      });
    },

    /**
     * A refund the provider refused or closed: Refund FAILED, the order back to PAID / PARTIALLY_REFUNDED. Resolves
     * with the order's channel when this call failed it, null when it was already finished.
     */
    async failRefund(refundId: string): Promise<{ channel: PaymentChannel } | null> {
      return transact(db, async (tx) => {
        const refund = await tx.refund.findUniqueOrThrow({ where: { id: refundId } });
        const claimed = await tx.refund.updateMany({ where: { id: refundId, status: 'PROCESSING' }, data: { status: 'FAILED', finishedAt: new Date() } });
        if (claimed.count === 0) return null;
        const order = await tx.order.findUniqueOrThrow({ where: { id: refund.orderId }, select: { refundedFen: true, channel: true } });
        await tx.order.updateMany({ where: { id: refund.orderId, status: 'REFUNDING' }, data: { status: order.refundedFen > 0 ? 'PARTIALLY_REFUNDED' : 'PAID' } });
        return { channel: order.channel };
      });
    },

    /** PENDING orders created at or before `before` (oldest first): what reconciliation asks the providers about. */
    listPendingBefore(before: Date, limit: number): Promise<OrderRow[]> {
      return db.order.findMany({ where: { status: 'PENDING', createdAt: { lte: before } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit, select });
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
