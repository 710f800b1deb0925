import { isUniqueConstraintError, recordAudit, transact, type AuditActor, type TenantScoped, type UserDb } from '@firefly/db';
import type { ManifestOperation, PublishedList } from '@firefly/persisted-queries';

export interface PersistedQueryListSummary {
  /** The partner's id. */
  id: string;
  version: number;
  operationCount: number;
  publishedAt: Date;
}

/** Replacing a list retries this often when another publish for the same partner wins the race. */
const REPLACE_ATTEMPTS = 5;

/** Partners' persisted query lists in the request's tenant (one row per partner; schema: persisted-queries.prisma). */
export function createPersistedQueryListRepository(db: TenantScoped<UserDb>, tenantId: string) {
  return {
    /** The lists of these partners (those that have one). */
    async summaries(partnerIds: readonly string[]): Promise<PersistedQueryListSummary[]> {
      const rows = await db.persistedQueryList.findMany({
        where: { partnerId: { in: [...partnerIds] } },
        select: { partnerId: true, version: true, operationCount: true, publishedAt: true },
      });
      return rows.map(({ partnerId, ...summary }) => ({ id: partnerId, ...summary }));
    },

    /**
     * Replaces the partner's list with `operations`: version 1 for the first, + 1 after that, with its audit event
     * (`publishPersistedQueries`) in the same transaction. Two publishes at once are serialised: the write names
     * the version it read and the loser reads again, so every version is one whole list and no number is used twice.
     */
    async replace(partnerId: string, operations: readonly ManifestOperation[], audit: AuditActor): Promise<PublishedList> {
      const data = { operationCount: operations.length, operations: JSON.stringify(operations), publishedAt: new Date() };
      for (let attempt = 1; attempt <= REPLACE_ATTEMPTS; attempt++) {
        const version = await transact(db, async (tx) => {
          const current = await tx.persistedQueryList.findUnique({ where: { partnerId }, select: { version: true } });
          const next = (current?.version ?? 0) + 1;
          if (!current) await tx.persistedQueryList.create({ data: { partnerId, tenantId, version: next, ...data } });
          else if ((await tx.persistedQueryList.updateMany({ where: { partnerId, version: current.version }, data: { version: next, ...data } })).count === 0) return null;
          const details = { version: next, operationCount: operations.length, operations: operations.map((o) => o.name) };
          await recordAudit(tx, { ...audit, action: 'publishPersistedQueries', targetType: 'Partner', targetId: partnerId, details });
          return next;
        }).catch((error: unknown) => {
          // Two first publishes at once: the loser's create hits the primary key; it reads again.
          if (isUniqueConstraintError(error)) return null;
          throw error;
        });
        if (version !== null) return { tenantId, partnerId, version, publishedAt: data.publishedAt.toISOString(), operations: [...operations] };
      }
      throw new Error(`persisted query list of ${partnerId}: lost ${REPLACE_ATTEMPTS} publish races in a row`);
    },
  };
}

export type PersistedQueryListRepository = ReturnType<typeof createPersistedQueryListRepository>;

/** Every tenant's list versions (the Redis sync job; not a request path, so not tenant-scoped). */
export function listVersions(db: UserDb): Promise<Array<{ partnerId: string; version: number }>> {
  return db.persistedQueryList.findMany({ select: { partnerId: true, version: true } });
}

/** Whole lists by partner id, as the gateways hold them (the Redis sync job). */
export async function readLists(db: UserDb, partnerIds: string[]): Promise<PublishedList[]> {
  const rows = await db.persistedQueryList.findMany({ where: { partnerId: { in: partnerIds } } });
  return rows.map((row) => ({
    tenantId: row.tenantId,
    partnerId: row.partnerId,
    version: row.version,
    publishedAt: row.publishedAt.toISOString(),
    operations: JSON.parse(row.operations) as ManifestOperation[],
  }));
}
