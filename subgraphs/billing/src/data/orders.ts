import type { BillingDb, OrderStatus, PaymentChannel, TenantScoped } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';
import { fetchPagePerUser, type PerUserPageQuery } from './page-per-user.ts';
import type { BillingSql } from './raw-sql.ts';

export interface OrderView {
  id: string;
  tenantId: string;
  userId: string;
  productId: string;
  amountFen: number;
  credits: number;
  channel: PaymentChannel;
  status: OrderStatus;
  payUrl: string | null;
  qrCodeUrl: string | null;
  expiresAt: Date;
  paidAt: Date | null;
  refundedFen: number;
  createdAt: Date;
}

/** A provider transaction of an order (ADMIN reads; the raw notification payload stays in the database). */
export interface PaymentRecordView {
  id: string;
  orderId: string;
  channel: PaymentChannel;
  providerTradeNo: string;
  amountFen: number;
  createdAt: Date;
}

export interface RefundRecordView {
  id: string;
  orderId: string;
  outRefundNo: string;
  amountFen: number;
  reason: string;
  status: 'PROCESSING' | 'SUCCEEDED' | 'FAILED';
  createdAt: Date;
  finishedAt: Date | null;
}

const columns = ['id', 'tenantId', 'userId', 'productId', 'amountFen', 'credits', 'channel', 'status', 'payUrl', 'qrCodeUrl', 'expiresAt', 'paidAt', 'refundedFen', 'createdAt'] as const;
const select = Object.fromEntries(columns.map((c) => [c, true])) as Record<(typeof columns)[number], true>;

/** Orders of one tenant; another tenant's id finds nothing. */
export function createOrderRepository(db: TenantScoped<BillingDb & BillingSql>, tenantId: string) {
  const query: PerUserPageQuery<OrderView> = {
    table: 'Order',
    columns,
    findOne: (where, take) => db.order.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take, select }),
  };
  return {
    findByIds: (ids: readonly string[]): Promise<OrderView[]> => db.order.findMany({ where: { tenantId, id: { in: [...ids] } }, select }),
    pagesOf: (userIds: readonly string[], page: Page) => fetchPagePerUser(db, query, tenantId, userIds, page),
    /** The tenant's orders, newest first, one page (take + 1 rows), optionally one status and/or one buyer. */
    listForAdmin: (filter: { status?: OrderStatus | null; userId?: string | null }, page: Page): Promise<OrderView[]> =>
      db.order.findMany({
        where: { tenantId, ...(filter.status ? { status: filter.status } : {}), ...(filter.userId ? { userId: filter.userId } : {}), ...keysetWhere(page.after, 'desc') },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.take + 1,
        select,
      }),
    paymentsOf: (orderIds: readonly string[]): Promise<PaymentRecordView[]> =>
      db.payment.findMany({
        where: { tenantId, orderId: { in: [...orderIds] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, orderId: true, channel: true, providerTradeNo: true, amountFen: true, createdAt: true },
      }),
    refundsOf: (orderIds: readonly string[]): Promise<RefundRecordView[]> =>
      db.refund.findMany({
        where: { tenantId, orderId: { in: [...orderIds] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, orderId: true, outRefundNo: true, amountFen: true, reason: true, status: true, createdAt: true, finishedAt: true },
      }),
  };
}
