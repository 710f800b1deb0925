import type { BillingDb, OrderStatus, PaymentChannel, TenantScoped } from '@firefly/db';
import type { Page } from '@firefly/server-kit';
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
  createdAt: Date;
}

const columns = ['id', 'tenantId', 'userId', 'productId', 'amountFen', 'credits', 'channel', 'status', 'payUrl', 'qrCodeUrl', 'expiresAt', 'paidAt', 'createdAt'] as const;
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
  };
}
