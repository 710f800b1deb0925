import { requireUser } from '@firefly/auth';
import { badUserInput, notFound, unauthenticated } from '@firefly/errors';
import type { UserRow } from '../data/users.ts';
import { requireAvatarUrl, requireDisplayName } from './identifiers.ts';
import { checkPasswordPolicy } from './password-policy.ts';
import { clientIpOf, type UserScope } from './scope.ts';
import { revokeSessions } from './sessions.ts';

export async function updateProfile(scope: UserScope, input: { displayName?: string | null; avatarUrl?: string | null }): Promise<UserRow> {
  const me = requireUser(scope.identity);
  const data: { displayName?: string; avatarUrl?: string | null } = {};
  if (input.displayName !== undefined && input.displayName !== null) data.displayName = requireDisplayName(input.displayName);
  // An empty string clears the avatar; null means "leave as is".
  if (input.avatarUrl !== undefined && input.avatarUrl !== null) data.avatarUrl = input.avatarUrl.trim() === '' ? null : requireAvatarUrl(input.avatarUrl);
  const user = Object.keys(data).length > 0 ? await scope.users.update(me.userId, data) : await scope.users.findById(me.userId);
  if (!user) throw notFound('User');
  return user;
}

/**
 * Changes the password after checking the current one (throttled like a login), then signs out every other
 * session: whoever else held one may be who the user is locking out. The calling session stays signed in.
 */
export async function changePassword(scope: UserScope, input: { currentPassword: string; newPassword: string }): Promise<boolean> {
  const me = requireUser(scope.identity);
  const { services } = scope;
  const user = await scope.users.findById(me.userId);
  if (!user) throw unauthenticated();
  const throttleKey = `user:${user.id}`;
  const ip = clientIpOf(scope.identity);
  await services.loginThrottle.check(scope.tenantId, throttleKey, ip);
  const hash = await scope.users.passwordHashOf(user.id);
  const ok = hash ? await services.hasher.verify(hash, input.currentPassword) : await services.hasher.verifyNothing(input.currentPassword);
  if (!ok) {
    await services.loginThrottle.recordFailure(scope.tenantId, throttleKey, ip);
    throw badUserInput(hash ? 'The current password is wrong' : 'This account has no password yet', { field: 'currentPassword' });
  }
  await services.loginThrottle.recordSuccess(scope.tenantId, throttleKey, ip);
  checkPasswordPolicy(input.newPassword, { email: user.email, phone: user.phone, displayName: user.displayName }, 'newPassword');
  if (input.newPassword === input.currentPassword) throw badUserInput('The new password must differ from the current one', { field: 'newPassword', reason: 'UNCHANGED' });
  await scope.users.setPasswordHash(user.id, await services.hasher.hash(input.newPassword));
  await revokeSessions(scope, { userId: user.id, exceptId: me.sessionId }, 'password-changed');
  scope.logger.info({ userId: user.id }, 'password changed; other sessions revoked');
  return true;
}

export async function logout(scope: UserScope): Promise<boolean> {
  const me = requireUser(scope.identity);
  await revokeSessions(scope, { id: me.sessionId, userId: me.userId }, 'logout');
  return true;
}

/** Ends one of the caller's own sessions; another user's session id answers exactly like a missing one. */
export async function revokeSession(scope: UserScope, sessionId: string): Promise<boolean> {
  const me = requireUser(scope.identity);
  const session = await scope.sessions.findById(sessionId);
  if (!session || session.userId !== me.userId || session.revokedAt) throw notFound('Session');
  await revokeSessions(scope, { id: sessionId, userId: me.userId }, 'revoked');
  return true;
}
