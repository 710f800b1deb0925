import type { BillingDb, LedgerReason, TenantScoped } from '@firefly/db';
import type { Page } from '@firefly/server-kit';
import { fetchPagePerUser, type PerUserPageQuery } from './page-per-user.ts';
import type { BillingSql } from './raw-sql.ts';

export interface LedgerEntryView {
  id: string;
  userId: string;
  delta: number;
  balanceAfter: number;
  reason: LedgerReason;
  referenceId: string | null;
  createdAt: Date;
}

const columns = ['id', 'userId', 'delta', 'balanceAfter', 'reason', 'referenceId', 'createdAt'] as const;
const select = Object.fromEntries(columns.map((c) => [c, true])) as Record<(typeof columns)[number], true>;

/** Ledger pages of one tenant's users, newest first. */
export function createLedgerRepository(db: TenantScoped<BillingDb & BillingSql>, tenantId: string) {
  const query: PerUserPageQuery<LedgerEntryView> = {
    table: 'LedgerEntry',
    columns,
    findOne: (where, take) => db.ledgerEntry.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take, select }),
  };
  return {
    pagesOf: (userIds: readonly string[], page: Page) => fetchPagePerUser(db, query, tenantId, userIds, page),
  };
}
