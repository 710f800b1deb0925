import type { Db } from '@firefly/db';

/**
 * The one raw-SQL capability billing's data layer takes besides its model delegates: per-user pages need a window
 * function (one query for many users, each user's page bounded), which Prisma's query API cannot express. It is
 * used only by `page-per-user.ts` and the partner spending sum of `ledger.ts` (GROUP BY a UTC day), on billing's own
 * tables.
 */
export type BillingSql = Pick<Db, '$queryRaw'>;
