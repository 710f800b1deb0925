import { requireUser, ROLES, type Role } from '@firefly/auth';
import { badUserInput, notFound } from '@firefly/errors';
import { auditBy } from '@firefly/server-kit';
import type { UserRow } from '../data/users.ts';
import { beforeAccountStatusChange } from './partners.ts';
import type { UserScope } from './scope.ts';
import { revokeSessions } from './sessions.ts';

/**
 * Replaces a user's roles. USER is always kept (every account is a user); an admin cannot drop their own ADMIN
 * role, so a tenant cannot lose its last admin by accident. Live sessions get the new roles at once: the gateway
 * reads roles from the session record, not from the access token.
 */
export async function setUserRoles(scope: UserScope, input: { userId: string; roles: Role[] }): Promise<UserRow> {
  const me = requireUser(scope.identity).userId;
  const roles = ROLES.filter((role) => role === 'USER' || input.roles.includes(role));
  if (input.userId === me && !roles.includes('ADMIN')) throw badUserInput('You cannot remove your own ADMIN role', { field: 'roles' });
  const user = await scope.users.update(input.userId, { roles: roles.join(',') }, { ...auditBy(scope), action: 'setUserRoles' });
  if (!user) throw notFound('User');
  await scope.services.sessionStore.setRoles(scope.tenantId, user.id, roles);
  scope.logger.info({ userId: user.id, roles, by: me }, 'user roles changed');
  return user;
}

/**
 * SUSPENDED signs the user out everywhere at once; ACTIVE lets them sign in again. A partner's own account has no
 * session: its partner's keys are refused instead, from the next request on (partners.ts).
 */
export async function setUserStatus(scope: UserScope, input: { userId: string; status: 'ACTIVE' | 'SUSPENDED' }): Promise<UserRow> {
  const me = requireUser(scope.identity).userId;
  if (input.userId === me && input.status === 'SUSPENDED') throw badUserInput('You cannot suspend your own account', { field: 'userId' });
  const afterwards = await beforeAccountStatusChange(scope, input.userId, input.status);
  const user = await scope.users.update(input.userId, { status: input.status }, { ...auditBy(scope), action: 'setUserStatus' });
  if (!user) throw notFound('User');
  await afterwards?.();
  if (input.status === 'SUSPENDED') await revokeSessions(scope, { userId: user.id }, 'suspended');
  scope.logger.info({ userId: user.id, status: input.status, by: me }, 'user status changed');
  return user;
}
