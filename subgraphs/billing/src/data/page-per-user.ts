import { Prisma } from '@firefly/db';
import { keysetWhere, type Page } from '@firefly/server-kit';
import type { BillingSql } from './raw-sql.ts';

/** Billing tables listed per user, newest first, that carry (tenantId, userId, createdAt) and an index on them. */
export type PerUserTable = 'LedgerEntry' | 'Order';

export interface PerUserPageQuery<Row> {
  table: PerUserTable;
  /** Columns to read, as in the table. */
  columns: readonly (keyof Row & string)[];
  /** The single-user path: an ordinary indexed query with LIMIT. */
  findOne: (where: Record<string, unknown>, take: number) => Promise<Row[]>;
}

/**
 * One page (`take + 1` rows, newest first by (createdAt, id)) for each of `userIds`, in ONE query whatever the
 * number of users: a single user (the usual `me { ledger }`) is a plain indexed LIMIT query; several users are one
 * ROW_NUMBER() OVER (PARTITION BY userId …) query, so a list of N users costs one round trip, not N, and each
 * user's page stays bounded. Returns rows grouped by user id, each group newest first.
 */
export async function fetchPagePerUser<Row extends { userId: string; createdAt: Date; id: string }>(
  sql: BillingSql,
  query: PerUserPageQuery<Row>,
  tenantId: string,
  userIds: readonly string[],
  page: Page,
): Promise<Map<string, Row[]>> {
  const groups = new Map<string, Row[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return groups;
  const limit = page.take + 1;
  const rows =
    userIds.length === 1
      ? await query.findOne({ tenantId, userId: userIds[0], ...keysetWhere(page.after, 'desc') }, limit)
      : await sql.$queryRaw<Row[]>(windowQuery(query, tenantId, userIds, page, limit));
  for (const row of rows) groups.get(row.userId)?.push(row);
  return groups;
}

function windowQuery<Row>(query: PerUserPageQuery<Row>, tenantId: string, userIds: readonly string[], page: Page, limit: number): Prisma.Sql {
  // Identifiers come from the fixed lists above, never from input; every value is a bound parameter.
  const table = Prisma.raw(`\`${query.table}\``);
  const columns = Prisma.raw(query.columns.map((c) => `\`${c}\``).join(', '));
  const after = page.after
    ? Prisma.sql`AND (\`createdAt\` < ${page.after.createdAt} OR (\`createdAt\` = ${page.after.createdAt} AND \`id\` < ${page.after.id}))`
    : Prisma.empty;
  return Prisma.sql`
    SELECT ${columns} FROM (
      SELECT ${columns}, ROW_NUMBER() OVER (PARTITION BY \`userId\` ORDER BY \`createdAt\` DESC, \`id\` DESC) AS \`rowNumber\`
      FROM ${table}
      WHERE \`tenantId\` = ${tenantId} AND \`userId\` IN (${Prisma.join([...userIds])}) ${after}
    ) AS \`ranked\`
    WHERE \`rowNumber\` <= ${limit}
    ORDER BY \`userId\`, \`createdAt\` DESC, \`id\` DESC`;
}
