import type { BillingDb, TenantScoped } from '@firefly/db';
import DataLoader from 'dataloader';
import type { Balance } from '../domain/ports.ts';

const EMPTY: Balance = Object.freeze({ available: 0, reserved: 0 });

/** Balances of one tenant's users, one query per batch; a user without an account reads as 0 / 0. */
export function createBalanceLoader(db: TenantScoped<BillingDb>, tenantId: string): DataLoader<string, Balance> {
  return new DataLoader<string, Balance>(async (userIds) => {
    const rows = await db.creditAccount.findMany({
      where: { tenantId, userId: { in: [...userIds] } },
      select: { userId: true, available: true, reserved: true },
    });
    const byUser = new Map(rows.map((row) => [row.userId, { available: row.available, reserved: row.reserved }]));
    return userIds.map((id) => byUser.get(id) ?? EMPTY);
  });
}
