/**
 * Operator jobs over users' emails and phones (`npm run pii:encrypt`, `npm run pii:rotate`; docs/operations.md,
 * "Personal data encryption"). Both walk the User table in primary-key order, one batch at a time, and change each
 * row with one conditional UPDATE (only if the row still holds what was read), so they can run beside live traffic,
 * be stopped at any point and be started again: a row already done no longer matches the job's filter, and is
 * never sealed twice. Neither ever prints a value: reports carry counts and user ids. Each run that changed rows
 * appends one audit event per tenant it changed (actor `cli:pii`, action `pii:encrypt` / `pii:rotate`, details: rows
 * changed and failed, the active key id), so each tenant's admins see it in `auditEvents`.
 */
import type { PiiCrypto } from '@firefly/crypto';
import { isUniqueConstraintError, recordAudit, type Db } from '@firefly/db';
import { createUserPii } from './data/user-pii.ts';

export interface PiiJobOptions {
  /** Rows per batch. Default 500. */
  batchSize?: number;
  /** Stop after this many batches (resume by running again). Default: until done. */
  maxBatches?: number;
  /** Only this tenant's users. Default: every tenant. */
  tenantId?: string;
  /** After each batch: how many rows it changed (progress output). */
  onBatch?: (batch: { rows: number; changed: number }) => void;
  /** Checked before each batch: true stops the job after the batch in hand (SIGINT). */
  stopRequested?: () => boolean;
}

export interface PiiJobReport {
  /** Rows changed by this run. */
  changed: number;
  batches: number;
  /** Rows left alone because they changed under the job (they are taken again on the next run). */
  raced: number;
  /** Ids of rows that could not be done (a sealed row already holds the same email or phone in the tenant). */
  failed: string[];
  /** Rows still to do after this run (0 when finished). */
  remaining: number;
}

const contactSelect = { id: true, tenantId: true, email: true, phone: true, emailCiphertext: true, phoneCiphertext: true } as const;

/** Rows still holding a clear email or phone. */
function legacyWhere(tenantId?: string) {
  return { ...(tenantId ? { tenantId } : {}), OR: [{ email: { not: null } }, { phone: { not: null } }] };
}

/** Rows with a value sealed under another key id than the active one. */
function rotationWhere(activeKeyId: string, tenantId?: string) {
  const stale = (column: 'emailCiphertext' | 'phoneCiphertext') => ({ AND: [{ [column]: { not: null } }, { NOT: { [column]: { startsWith: `p1.${activeKeyId}.` } } }] });
  return { ...(tenantId ? { tenantId } : {}), OR: [stale('emailCiphertext'), stale('phoneCiphertext')] };
}

export function countLegacyRows(db: Db, tenantId?: string): Promise<number> {
  return db.user.count({ where: legacyWhere(tenantId) });
}

export function countRowsToRotate(db: Db, crypto: PiiCrypto, tenantId?: string): Promise<number> {
  return db.user.count({ where: rotationWhere(crypto.envelope.activeKeyId, tenantId) });
}

type ContactRow = { id: string; tenantId: string; email: string | null; phone: string | null; emailCiphertext: string | null; phoneCiphertext: string | null };

/** What a run is, for its audit events. */
interface PiiJob {
  action: 'pii:encrypt' | 'pii:rotate';
  /** The key id every value is sealed under once the job has done its row. */
  keyId: string;
}

async function walk(
  db: Db,
  job: PiiJob,
  where: object,
  options: PiiJobOptions,
  change: (row: ContactRow) => Promise<'changed' | 'raced'>,
  remaining: () => Promise<number>,
): Promise<PiiJobReport> {
  const batchSize = options.batchSize ?? 500;
  const report: PiiJobReport = { changed: 0, batches: 0, raced: 0, failed: [], remaining: 0 };
  const perTenant = new Map<string, { changed: number; failed: number }>();
  const tally = (tenantId: string) => {
    let counts = perTenant.get(tenantId);
    if (!counts) perTenant.set(tenantId, (counts = { changed: 0, failed: 0 }));
    return counts;
  };
  let after = '';
  while (options.maxBatches === undefined || report.batches < options.maxBatches) {
    if (options.stopRequested?.()) break;
    const rows = await db.user.findMany({ where: { AND: [where, { id: { gt: after } }] }, orderBy: { id: 'asc' }, take: batchSize, select: contactSelect });
    if (rows.length === 0) break;
    let changed = 0;
    for (const row of rows) {
      try {
        if ((await change(row)) === 'changed') {
          changed++;
          tally(row.tenantId).changed++;
        } else report.raced++;
      } catch (error) {
        if (!isUniqueConstraintError(error)) throw error;
        report.failed.push(row.id);
        tally(row.tenantId).failed++;
      }
    }
    after = rows.at(-1)!.id;
    report.batches++;
    report.changed += changed;
    options.onBatch?.({ rows: rows.length, changed });
    if (rows.length < batchSize) break;
  }
  report.remaining = await remaining();
  for (const [tenantId, counts] of perTenant) {
    if (counts.changed === 0 && counts.failed === 0) continue;
    await recordAudit(db, { tenantId, actor: 'cli:pii', action: job.action, targetType: 'User', details: { ...counts, keyId: job.keyId } });
  }
  return report;
}

/**
 * Seals the clear email and phone of rows written before PII encryption and empties the clear columns, in one
 * UPDATE per row conditional on the clear values read (and on the row having no sealed value of its own yet).
 */
export function encryptLegacyRows(db: Db, crypto: PiiCrypto, options: PiiJobOptions = {}): Promise<PiiJobReport> {
  const pii = createUserPii(crypto);
  return walk(
    db,
    { action: 'pii:encrypt', keyId: crypto.envelope.activeKeyId },
    legacyWhere(options.tenantId),
    options,
    async (row) => {
      const sealed = pii.sealLegacy(row);
      const data = {
        email: null,
        phone: null,
        ...(row.email !== null ? { emailCiphertext: sealed.emailCiphertext, emailIndex: sealed.emailIndex } : {}),
        ...(row.phone !== null ? { phoneCiphertext: sealed.phoneCiphertext, phoneIndex: sealed.phoneIndex } : {}),
      };
      const guard = {
        id: row.id,
        email: row.email,
        phone: row.phone,
        ...(row.email !== null ? { emailCiphertext: null } : {}),
        ...(row.phone !== null ? { phoneCiphertext: null } : {}),
      };
      const { count } = await db.user.updateMany({ where: guard, data });
      return count === 1 ? 'changed' : 'raced';
    },
    () => countLegacyRows(db, options.tenantId),
  );
}

/**
 * Re-encrypts every sealed email and phone not under the active key id (PII_ACTIVE_KEY_ID): opened with the key it
 * names (still listed in PII_KEYS), sealed again under a fresh data key and the active master key. The blind
 * indexes do not change. Each UPDATE is conditional on the ciphertexts read.
 */
export function rotatePiiRows(db: Db, crypto: PiiCrypto, options: PiiJobOptions = {}): Promise<PiiJobReport> {
  const pii = createUserPii(crypto);
  return walk(
    db,
    { action: 'pii:rotate', keyId: crypto.envelope.activeKeyId },
    rotationWhere(crypto.envelope.activeKeyId, options.tenantId),
    options,
    async (row) => {
      const clear = pii.open(row);
      const resealed = pii.seal(row.tenantId, row.id, {
        email: row.emailCiphertext !== null ? clear.email : null,
        phone: row.phoneCiphertext !== null ? clear.phone : null,
      });
      const data = {
        ...(row.emailCiphertext !== null ? { emailCiphertext: resealed.emailCiphertext } : {}),
        ...(row.phoneCiphertext !== null ? { phoneCiphertext: resealed.phoneCiphertext } : {}),
      };
      const { count } = await db.user.updateMany({ where: { id: row.id, emailCiphertext: row.emailCiphertext, phoneCiphertext: row.phoneCiphertext }, data });
      return count === 1 ? 'changed' : 'raced';
    },
    () => countRowsToRotate(db, crypto, options.tenantId),
  );
}
