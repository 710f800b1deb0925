import { isAdmin, requireUser, type Identity } from '@firefly/auth';
import { assertNever } from '@firefly/errors';

/**
 * Resolver helpers about the caller, shared by every subgraph. The declared access rules (access.ts) run before a
 * resolver; these answer what a resolver still needs: whose list to read, and whether a looked-up row is visible.
 */

/** The signed-in caller's user id, or UNAUTHENTICATED. */
export function requireUserId(ctx: { identity: Identity }): string {
  return requireUser(ctx.identity).userId;
}

/**
 * A row looked up by id from a root field, or null when the caller may not see it: visible to its owner, the
 * tenant's ADMINs and our services. Anyone else gets null, exactly like a missing id (never FORBIDDEN).
 */
export function visibleToCaller<Row extends { userId: string }>(ctx: { identity: Identity }, row: Row | null): Row | null {
  if (!row) return null;
  const { identity } = ctx;
  if (identity.kind === 'service' || isAdmin(identity)) return row;
  return identity.kind === 'user' && identity.userId === row.userId ? row : null;
}

/** Who made a change, for audit logs: a user id, `service:<name>`, or `anonymous`. */
export function actorOf(identity: Identity): string {
  switch (identity.kind) {
    case 'user':
      return identity.userId;
    case 'service':
      return `service:${identity.service}`;
    case 'anonymous':
      return 'anonymous';
    default:
      return assertNever(identity);
  }
}

/**
 * The request's part of an audit event (tenant, actor, request id), to spread into `recordAudit` of @firefly/db:
 * `recordAudit(tx, { ...auditBy(ctx), action: 'upsertProduct', targetType: 'Product', targetId, details })`.
 */
export function auditBy(ctx: { identity: Identity; tenantId: string; requestId: string }): { tenantId: string; actor: string; requestId: string } {
  return { tenantId: ctx.tenantId, actor: actorOf(ctx.identity), requestId: ctx.requestId };
}
