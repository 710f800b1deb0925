import { randomUUID } from 'node:crypto';
import type { AuditWriter } from './views.ts';

/** Longest `details` kept, in characters of JSON: enough for a before/after of any row we audit. */
const MAX_DETAILS_LENGTH = 16_000;

/** Who acts, where and in which request: the same for every audit event of one request (server-kit's `auditBy`). */
export interface AuditActor {
  tenantId: string;
  /** A user id, `service:<name>` for a service credential, `cli:<command>` for an operator CLI. */
  actor: string;
  requestId?: string | null;
}

/** One audit event: who (AuditActor) did what (`action`, the mutation's name) to what, and the before/after. */
export interface AuditEntry extends AuditActor {
  /** The mutation or operation, exactly as the API names it (`upsertProduct`, `setUserRoles`, …). */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  /** What changed, e.g. `{ before, after }`. Never a secret, token or password; stored as JSON text. */
  details?: Record<string, unknown> | null;
}

/**
 * Appends one event to the audit log. Pass the transaction client of the change (`tx` inside `transact`) so the
 * event and the change commit or roll back together; pass the (tenant-scoped) client when the change is not a
 * single transaction (then call it right after the change succeeded). Any domain view can: the audit log's
 * `create` and `createMany` are in every view (views.ts, AuditWriter). A replayed transaction makes its event afresh with it.
 */
export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  let details: string | null = null;
  if (entry.details != null) {
    details = JSON.stringify(entry.details);
    if (details.length > MAX_DETAILS_LENGTH) details = JSON.stringify({ truncated: true, keys: Object.keys(entry.details) });
  }
  // createMany: one INSERT. `create` would read the row back with a SELECT (MySQL cannot return it), a round trip
  // inside the caller's transaction, while it holds its locks, for an id we already know.
  await db.auditEvent.createMany({
    data: {
      id: randomUUID(),
      tenantId: entry.tenantId,
      actor: entry.actor,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      details,
      requestId: entry.requestId ?? null,
    },
  });
}
