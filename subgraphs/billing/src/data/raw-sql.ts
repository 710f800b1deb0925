import type { Db } from '@firefly/db';

/**
 * The raw-SQL capability billing's data layer takes besides its model delegates, on billing's own tables only:
 * - per-user pages need a window function (one query for many users, each user's page bounded), which Prisma's query
 *   API cannot express (`page-per-user.ts`), and the partner spending sum of `ledger.ts` groups by a UTC day;
 * - the credit store's close (settle, release, sweep; `credit-store.ts`) is two statements Prisma cannot write: a
 *   locking read (SELECT … FOR UPDATE) of a reservation and its account, and one UPDATE of both — half the round trips
 *   Prisma's delegates needed;
 * - `User.creditBalance` (`accounts.ts`), read with every image job event: the same SELECT as Prisma's, for half the CPU.
 */
export type BillingSql = Pick<Db, '$queryRaw' | '$executeRaw'>;
