import { isUniqueConstraintError, type OrderPaidSmsStatus, type TenantScoped, type UserDb } from '@firefly/db';

export interface OrderPaidSmsRow {
  orderId: string;
  status: OrderPaidSmsStatus;
  attempts: number;
  updatedAt: Date;
}

const select = { orderId: true, status: true, attempts: true, updatedAt: true } as const;

/**
 * The once-per-order log of payment-success SMS (OrderPaidSms) of one tenant. A message is claimed (SENDING) before
 * the provider is called, by an insert or by a conditional update of a FAILED row, so two requests for one order
 * cannot both send.
 */
export function createOrderPaidSmsRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    /** Claims a new order: the row as inserted (SENDING), or null when the order already has one. */
    async claimNew(orderId: string, userId: string): Promise<OrderPaidSmsRow | null> {
      try {
        return await db.orderPaidSms.create({ data: { orderId, tenantId, userId, status: 'SENDING', attempts: 1 }, select });
      } catch (error) {
        if (isUniqueConstraintError(error)) return null;
        throw error;
      }
    },
    find(orderId: string): Promise<OrderPaidSmsRow | null> {
      return db.orderPaidSms.findFirst({ where: { tenantId, orderId }, select });
    },
    /** FAILED → SENDING for another try; false when another request claimed it first. */
    async claimRetry(row: OrderPaidSmsRow): Promise<boolean> {
      const { count } = await db.orderPaidSms.updateMany({ where: { tenantId, orderId: row.orderId, status: 'FAILED', attempts: row.attempts }, data: { status: 'SENDING', attempts: row.attempts + 1, lastError: null } });
      return count === 1;
    },
    async finish(orderId: string, result: { status: 'SENT' | 'NO_PHONE' | 'FAILED'; messageId?: string; lastError?: string }): Promise<void> {
      await db.orderPaidSms.updateMany({
        where: { tenantId, orderId, status: 'SENDING' },
        data: { status: result.status, messageId: result.messageId ?? null, lastError: result.lastError ? result.lastError.slice(0, 256) : null },
      });
    },
  };
}

export type OrderPaidSmsRepository = ReturnType<typeof createOrderPaidSmsRepository>;
