import { Prisma, type BillingDb, type LedgerReason, type TenantScoped } from '@firefly/db';
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
  /** The partner whose key made the request that spent these credits; null otherwise. */
  partnerId: string | null;
  createdAt: Date;
}

const columns = ['id', 'userId', 'delta', 'balanceAfter', 'reason', 'referenceId', 'partnerId', 'createdAt'] as const;
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
    /**
     * What requests made with a partner's keys spent since `since` (a UTC midnight): per UTC day and reason, newest
     * day first. One grouped query on the (partnerId, createdAt) index, whatever the number of entries.
     */
    async partnerSpending(partnerId: string, since: Date): Promise<PartnerCreditUsageRow[]> {
      const rows = await db.$queryRaw<Array<{ day: string; reason: LedgerReason; credits: bigint | number | string; charges: bigint | number }>>(Prisma.sql`
        SELECT DATE_FORMAT(\`createdAt\`, '%Y-%m-%d') AS \`day\`, \`reason\`, -SUM(\`delta\`) AS \`credits\`, COUNT(*) AS \`charges\`
        FROM \`LedgerEntry\`
        WHERE \`partnerId\` = ${partnerId} AND \`tenantId\` = ${tenantId} AND \`createdAt\` >= ${since}
        GROUP BY \`day\`, \`reason\`
        ORDER BY \`day\` DESC, \`reason\``);
      return rows.map((row) => ({ day: new Date(`${row.day}T00:00:00.000Z`), reason: row.reason, credits: Number(row.credits), charges: Number(row.charges) }));
    },
  };
}

/** Partner.creditUsage: one UTC day and reason of what a partner's keys spent. */
export interface PartnerCreditUsageRow {
  day: Date;
  reason: LedgerReason;
  credits: number;
  charges: number;
}
