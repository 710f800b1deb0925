import { unauthenticated } from '@firefly/errors';

/** Roles a user can hold (the schema's `enum Role`). */
export type Role = 'USER' | 'ADMIN';
export const ROLES: readonly Role[] = ['USER', 'ADMIN'];

/**
 * Where a request came from, as the gateway saw it. Carried inside the signed credential so that a subgraph can
 * rate-limit and record sessions by client IP without trusting any header a client could set.
 */
export interface RequestOrigin {
  /** The client's IP address (after the gateway's TRUST_PROXY rules). Absent on service calls. */
  clientIp?: string;
  /** The client's User-Agent, truncated; only ever displayed (mySessions), never trusted. */
  userAgent?: string;
}

/**
 * Set on requests the gateway accepted with a partner's API key (`x-api-key`): which partner and which key. The
 * identity is then the partner's account (key alone) or the user of the bearer token sent with the key.
 */
export interface PartnerOrigin {
  partner?: { partnerId: string; apiKeyId: string };
}

/**
 * Who is making a request, as verified by the gateway (or, for `service`, by the calling subgraph).
 * A tagged union: check `kind` before reading user fields.
 */
export type Identity = (
  | { kind: 'anonymous'; tenantId: string; requestId: string }
  | { kind: 'user'; tenantId: string; requestId: string; userId: string; roles: Role[]; sessionId: string }
  | { kind: 'service'; tenantId: string; requestId: string; service: string }
) &
  RequestOrigin &
  PartnerOrigin;

/** A signed-in user's identity (not anonymous, not a service). */
export type UserIdentity = Extract<Identity, { kind: 'user' }>;

/** True for a signed-in user holding the ADMIN role. */
export function isAdmin(identity: Identity): boolean {
  return identity.kind === 'user' && identity.roles.includes('ADMIN');
}

/** The signed-in user, or UNAUTHENTICATED (anonymous callers and services have no user of their own). */
export function requireUser(identity: Identity): UserIdentity {
  if (identity.kind !== 'user') throw unauthenticated();
  return identity;
}

export const DEFAULT_TENANT_ID = 'default';
