import { randomUUID } from 'node:crypto';
import { generateRefreshToken, hashRefreshToken, isWellFormedRefreshToken, type Identity } from '@firefly/auth';
import type { SessionRevokeReason } from '@firefly/auth/sessions';
import { forbidden, unauthenticated } from '@firefly/errors';
import type { UserRow } from '../data/users.ts';
import { rolesOf, type UserScope } from './scope.ts';

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: UserRow;
  /** The identity this payload signs in; the resolver makes it the request's identity (see schema.graphql). */
  identity: Extract<Identity, { kind: 'user' }>;
}

const usedKey = (tenantId: string, hash: string) => `refresh-used:${tenantId}:${hash}`;
const INVALID_REFRESH = 'Invalid or expired refresh token';

/** Opens a session for a user who has just proved who they are: MySQL row, live record in Redis, tokens. */
export async function startSession(scope: UserScope, user: UserRow): Promise<AuthPayload> {
  if (user.status !== 'ACTIVE') throw forbidden('This account is suspended');
  const { services, identity } = scope;
  const sessionId = randomUUID();
  const refreshToken = generateRefreshToken();
  const expiresAt = Date.now() + services.refreshTokenTtlSeconds * 1000;
  await scope.sessions.create({
    id: sessionId,
    userId: user.id,
    refreshTokenHash: hashRefreshToken(refreshToken),
    userAgent: identity.userAgent ?? null,
    ip: identity.clientIp ?? null,
    expiresAt: new Date(expiresAt),
  });
  const roles = rolesOf(user);
  await services.sessionStore.save({ sessionId, userId: user.id, tenantId: scope.tenantId, roles, expiresAt });
  // A suspension that landed between our status read and the save above must not leave a live session behind.
  const current = await scope.users.findById(user.id);
  if (!current || current.status !== 'ACTIVE') {
    await revokeSessions(scope, { id: sessionId, userId: user.id }, 'suspended');
    throw forbidden('This account is suspended');
  }
  return payloadFor(scope, current, sessionId, refreshToken);
}

async function payloadFor(scope: UserScope, user: UserRow, sessionId: string, refreshToken: string): Promise<AuthPayload> {
  const roles = rolesOf(user);
  const accessToken = await scope.services.issueAccessToken({ userId: user.id, tenantId: scope.tenantId, sessionId, roles });
  return {
    accessToken,
    refreshToken,
    expiresIn: scope.services.accessTokenTtlSeconds,
    user,
    identity: {
      kind: 'user',
      tenantId: scope.tenantId,
      requestId: scope.requestId,
      userId: user.id,
      roles,
      sessionId,
      ...(scope.identity.clientIp ? { clientIp: scope.identity.clientIp } : {}),
      ...(scope.identity.userAgent ? { userAgent: scope.identity.userAgent } : {}),
    },
  };
}

/**
 * Rotates a refresh token. The presented token must be the session's current one; a token that was current once
 * (it is remembered, hashed, until the session ends) is a replay — someone else holds a copy — so the whole
 * session is revoked and both holders must sign in again (docs/architecture.md, "Trust"). Two concurrent
 * refreshes with the same token count as a replay too: exactly one rotation can win.
 */
export async function refreshSession(scope: UserScope, refreshToken: string): Promise<AuthPayload> {
  if (!isWellFormedRefreshToken(refreshToken)) throw unauthenticated(INVALID_REFRESH);
  const { services, tenantId } = scope;
  const hash = hashRefreshToken(refreshToken);
  const session = await scope.sessions.findByRefreshHash(hash);
  if (!session) {
    const reusedSessionId = await services.redis.get(usedKey(tenantId, hash));
    if (reusedSessionId) await revokeReplayedSession(scope, reusedSessionId);
    throw unauthenticated(INVALID_REFRESH);
  }
  if (session.revokedAt || session.expiresAt.getTime() <= Date.now()) throw unauthenticated(INVALID_REFRESH);
  const user = await scope.users.findById(session.userId);
  if (!user || user.status !== 'ACTIVE') {
    await revokeSessions(scope, { id: session.id, userId: session.userId }, 'suspended');
    throw unauthenticated(INVALID_REFRESH);
  }

  const next = generateRefreshToken();
  const expiresAt = Date.now() + services.refreshTokenTtlSeconds * 1000;
  const rotated = await scope.sessions.rotate(session.id, hash, {
    refreshTokenHash: hashRefreshToken(next),
    expiresAt: new Date(expiresAt),
    ip: scope.identity.clientIp ?? null,
    userAgent: scope.identity.userAgent ?? null,
  });
  if (!rotated) {
    await revokeReplayedSession(scope, session.id);
    throw unauthenticated(INVALID_REFRESH);
  }
  await services.redis.set(usedKey(tenantId, hash), session.id, 'PXAT', expiresAt);
  // Re-saving also restores the live record if Redis lost it: MySQL is the authority on revocation.
  await services.sessionStore.save({ sessionId: session.id, userId: user.id, tenantId, roles: rolesOf(user), expiresAt });
  return payloadFor(scope, user, session.id, next);
}

async function revokeReplayedSession(scope: UserScope, sessionId: string): Promise<void> {
  const session = await scope.sessions.findById(sessionId);
  if (!session) return;
  scope.logger.warn({ sessionId, userId: session.userId }, 'refresh token replayed: session revoked');
  await revokeSessions(scope, { id: sessionId, userId: session.userId }, 'refresh-token-reuse');
}

/**
 * Revokes sessions in MySQL first (the authority: refreshSession restores live records from it), then in Redis,
 * which every gateway checks on every request and which announces the revocation to open connections.
 */
export async function revokeSessions(
  scope: UserScope,
  where: { id?: string; userId: string; exceptId?: string },
  reason: SessionRevokeReason,
): Promise<string[]> {
  const ids = await scope.sessions.revoke(where, reason);
  const store = scope.services.sessionStore;
  if (where.id) {
    for (const id of ids) await store.revoke({ sessionId: id, userId: where.userId, tenantId: scope.tenantId }, reason);
  } else {
    await store.revokeAll(scope.tenantId, where.userId, reason, where.exceptId ? { except: where.exceptId } : {});
  }
  return ids;
}
