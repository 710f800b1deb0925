import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { generateRefreshToken, hashRefreshToken, isWellFormedRefreshToken, type Identity } from '@firefly/auth';
import type { SessionRevokeReason } from '@firefly/auth/sessions';
import { forbidden, unauthenticated } from '@firefly/errors';
import { actorOf } from '@firefly/server-kit';
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
const graceKey = (tenantId: string, hash: string) => `refresh-grace:${tenantId}:${hash}`;
const INVALID_REFRESH = 'Invalid or expired refresh token';
const REVOKED = 'This session was signed out';

/** Opens a session for a user who has just proved who they are: MySQL row, live record in Redis, tokens. */
export async function startSession(scope: UserScope, user: UserRow, action: SignInAction): Promise<AuthPayload> {
  if (user.status !== 'ACTIVE') throw forbidden('This account is suspended');
  const { services, identity } = scope;
  const sessionId = randomUUID();
  const refreshToken = generateRefreshToken();
  const expiresAt = Date.now() + services.refreshTokenTtlSeconds * 1000;
  const client = { userAgent: identity.userAgent ?? null, ip: identity.clientIp ?? null };
  // The sign-in is audited with the session (the user is the actor; the client's address and agent, never a secret).
  const audit = { tenantId: scope.tenantId, actor: user.id, requestId: scope.requestId, action, targetType: 'Session', targetId: sessionId, details: client };
  await scope.sessions.create({ id: sessionId, userId: user.id, refreshTokenHash: hashRefreshToken(refreshToken), ...client, expiresAt: new Date(expiresAt) }, audit);
  const roles = rolesOf(user);
  // A fresh session can only carry a revocation marker if "sign out everywhere" raced this sign-in: it stays out.
  if (!(await services.sessionStore.save({ sessionId, userId: user.id, tenantId: scope.tenantId, roles, expiresAt }))) throw unauthenticated(REVOKED);
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
 * session is revoked and both holders must sign in again (docs/architecture.md, "Trust").
 *
 * Two tabs refreshing with the same token at once are not a replay: the first to claim the rotation in Redis
 * (SET NX on `refresh-grace:<hash>`) rotates, and for REFRESH_REUSE_GRACE_SECONDS every other refresh with that
 * token gets the same new refresh token (and an access token of its own) instead of a revocation. The new token is
 * kept there encrypted with a key derived from the old one, so only a holder of the old token can read it.
 *
 * A revocation that lands while a refresh is between its MySQL rotation and its Redis save sticks: the save is
 * refused (the revocation marker, see @firefly/auth/sessions) and the refresh answers UNAUTHENTICATED.
 */
export async function refreshSession(scope: UserScope, refreshToken: string): Promise<AuthPayload> {
  if (!isWellFormedRefreshToken(refreshToken)) throw unauthenticated(INVALID_REFRESH);
  const { services, tenantId } = scope;
  const hash = hashRefreshToken(refreshToken);
  const session = await scope.sessions.findByRefreshHash(hash);
  if (!session) {
    const shared = await readGrace(scope, refreshToken, hash);
    if (shared) return sharedRotation(scope, shared);
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
  // Claim the rotation first: a concurrent refresh with the same token that loses this claim shares our result.
  const claimed = await services.redis.set(
    graceKey(tenantId, hash),
    sealGrace(refreshToken, { sessionId: session.id, refreshToken: next }),
    'PX',
    services.refreshReuseGraceSeconds * 1000,
    'NX',
  );
  if (claimed === null) {
    const shared = await readGrace(scope, refreshToken, hash);
    if (shared) return sharedRotation(scope, shared);
    await revokeReplayedSession(scope, session.id);
    throw unauthenticated(INVALID_REFRESH);
  }

  const expiresAt = Date.now() + services.refreshTokenTtlSeconds * 1000;
  const rotated = await scope.sessions.rotate(session.id, hash, {
    refreshTokenHash: hashRefreshToken(next),
    expiresAt: new Date(expiresAt),
    ip: scope.identity.clientIp ?? null,
    userAgent: scope.identity.userAgent ?? null,
  });
  if (!rotated) {
    // Revoked or rotated meanwhile (a grace window that had run out): nobody may pick up the token we announced.
    await services.redis.del(graceKey(tenantId, hash));
    await revokeReplayedSession(scope, session.id);
    throw unauthenticated(INVALID_REFRESH);
  }
  await services.redis.set(usedKey(tenantId, hash), session.id, 'PXAT', expiresAt);
  await services.hooks.afterRefreshRotated?.(session.id);
  // Re-saving also restores the live record if Redis lost it: MySQL is the authority on revocation. A revocation
  // that came after our rotation left a marker, and then nothing is written.
  const saved = await services.sessionStore.save({ sessionId: session.id, userId: user.id, tenantId, roles: rolesOf(user), expiresAt });
  if (!saved) throw unauthenticated(REVOKED);
  return payloadFor(scope, user, session.id, next);
}

interface GraceRecord {
  sessionId: string;
  refreshToken: string;
}

/** The rotation another refresh with the same token made within the grace window, checked against MySQL. */
async function sharedRotation(scope: UserScope, shared: GraceRecord): Promise<AuthPayload> {
  const session = await scope.sessions.findById(shared.sessionId);
  if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) throw unauthenticated(INVALID_REFRESH);
  const user = await scope.users.findById(session.userId);
  if (!user || user.status !== 'ACTIVE') throw unauthenticated(INVALID_REFRESH);
  // The live record is the rotating refresh's to write; a revocation since then has removed it for good.
  if (!(await scope.services.sessionStore.get(session.id))) throw unauthenticated(REVOKED);
  scope.logger.info({ sessionId: session.id }, 'concurrent refresh within the grace window: shared the rotation');
  return payloadFor(scope, user, session.id, shared.refreshToken);
}

async function readGrace(scope: UserScope, refreshToken: string, hash: string): Promise<GraceRecord | null> {
  const sealed = await scope.services.redis.get(graceKey(scope.tenantId, hash));
  return sealed ? openGrace(refreshToken, sealed) : null;
}

/** AES-256-GCM under a key only the holder of the old refresh token can derive (the stored hash is another digest). */
function graceCipherKey(refreshToken: string): Buffer {
  return createHash('sha256').update('firefly refresh grace\0').update(refreshToken).digest();
}

function sealGrace(refreshToken: string, record: GraceRecord): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', graceCipherKey(refreshToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(record), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function openGrace(refreshToken: string, sealed: string): GraceRecord | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', graceCipherKey(refreshToken), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const record = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Partial<GraceRecord>;
    return typeof record.sessionId === 'string' && typeof record.refreshToken === 'string' ? { sessionId: record.sessionId, refreshToken: record.refreshToken } : null;
  } catch {
    return null;
  }
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
/** The sign-in mutations, as audit actions. */
export type SignInAction = 'register' | 'login' | 'loginWithSmsCode';

/** The mutation behind each revocation reason (others are recorded as `revokeSessions:<reason>`). */
const REVOCATION_ACTIONS: Partial<Record<SessionRevokeReason, string>> = { logout: 'logout', revoked: 'revokeSession', 'password-changed': 'changePassword' };

export async function revokeSessions(
  scope: UserScope,
  where: { id?: string; userId: string; exceptId?: string },
  reason: SessionRevokeReason,
): Promise<string[]> {
  const ids = await scope.sessions.revoke(where, reason);
  // A suspension is audited as setUserStatus already; every other revocation is an event of its own.
  if (ids.length > 0 && reason !== 'suspended') {
    await scope.sessions.audit({
      tenantId: scope.tenantId,
      actor: actorOf(scope.identity),
      requestId: scope.requestId,
      action: REVOCATION_ACTIONS[reason] ?? `revokeSessions:${reason}`,
      targetType: 'User',
      targetId: where.userId,
      details: { sessionIds: ids, reason },
    });
  }
  const store = scope.services.sessionStore;
  if (where.id) {
    for (const id of ids) await store.revoke({ sessionId: id, userId: where.userId, tenantId: scope.tenantId }, reason);
  } else {
    // MySQL's list too: a session whose refresh is between rotation and save has no live record right now.
    await store.revokeAll(scope.tenantId, where.userId, reason, { ids, ...(where.exceptId ? { except: where.exceptId } : {}) });
  }
  return ids;
}
