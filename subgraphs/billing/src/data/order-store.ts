import type { BillingDb, OrderStatus, PaymentChannel } from '@firefly/db';
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
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
