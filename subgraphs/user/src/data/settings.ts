import { recordAudit, transact, type AuditEntry, type UserDb } from '@firefly/db';
import { SETTINGS_STATE, type SharedState, type SettingValues } from '@firefly/platform-state';
import { stateRevisionOf } from './tenants.ts';

export interface SettingRow {
  key: string;
  /** null: not set, the environment's value applies. */
  value: number | null;
  updatedAt: Date | null;
}

type Audit = Omit<AuditEntry, 'targetType' | 'targetId' | 'details'>;

/** System settings (platform admins; not tenant-scoped). Each change bumps the revision and is audited in its transaction. */
export function createSettingRepository(db: UserDb) {
  return {
    async list(): Promise<Array<{ key: string; value: number; updatedAt: Date }>> {
      const rows = await db.setting.findMany({ orderBy: { key: 'asc' } });
      return rows.map((row) => ({ key: row.key, value: Number(JSON.parse(row.value)), updatedAt: row.updatedAt }));
    },
    /** Sets the value, or removes it (`null`: back to the environment's value). */
    set(key: string, value: number | null, audit: Audit): Promise<SettingRow> {
      return transact(db, async (tx) => {
        await tx.stateRevision.upsert({ where: { kind: SETTINGS_STATE }, create: { kind: SETTINGS_STATE, revision: 1 }, update: { revision: { increment: 1 } } });
        const before = await tx.setting.findUnique({ where: { key } });
        let row: SettingRow;
        if (value === null) {
          await tx.setting.deleteMany({ where: { key } });
          row = { key, value: null, updatedAt: null };
        } else {
          const saved = await tx.setting.upsert({ where: { key }, create: { key, value: JSON.stringify(value) }, update: { value: JSON.stringify(value) } });
          row = { key, value, updatedAt: saved.updatedAt };
        }
        await recordAudit(tx, {
          ...audit,
          targetType: 'Setting',
          targetId: key,
          details: { before: { value: before ? Number(JSON.parse(before.value)) : null }, after: { value } },
        });
        return row;
      });
    },
  };
}

export type SettingRepository = ReturnType<typeof createSettingRepository>;

/** The settings as every process reads them, at a revision read first (see readTenantState). */
export async function readSettingState(db: UserDb): Promise<SharedState<{ values: SettingValues }>> {
  const revision = await stateRevisionOf(db, SETTINGS_STATE);
  const rows = await db.setting.findMany();
  return { revision, data: { values: Object.fromEntries(rows.map((row) => [row.key, Number(JSON.parse(row.value))])) } };
}
