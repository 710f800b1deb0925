import { Prisma } from '@firefly/db';
import DataLoader from 'dataloader';
import type { Balance } from '../domain/ports.ts';
import type { BillingSql } from './raw-sql.ts';

const EMPTY: Balance = Object.freeze({ available: 0, reserved: 0 });

/**
 * Balances of one tenant's users, one query per batch; a user without an account reads as 0 / 0. Raw SQL with the
 * tenant in its WHERE (as scopeToTenant would add it): the gateway asks for the owner's balance with every image job
 * event, and the same SELECT through Prisma's findMany on the request's tenant-scoped client cost about twice the CPU.
 */
export function createBalanceLoader(db: BillingSql, tenantId: string): DataLoader<string, Balance> {
  return new DataLoader<string, Balance>(async (userIds) => {
    const rows = await db.$queryRaw<Array<{ userId: string; available: number; reserved: number }>>(
      Prisma.sql`SELECT \`userId\`, \`available\`, \`reserved\` FROM \`CreditAccount\` WHERE \`tenantId\` = ${tenantId} AND \`userId\` IN (${Prisma.join(userIds)})`,
    );
    const byUser = new Map(rows.map((row) => [row.userId, { available: row.available, reserved: row.reserved }]));
    return userIds.map((id) => byUser.get(id) ?? EMPTY);
  });
}
