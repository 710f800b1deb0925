import type { Role } from '@firefly/auth';
import type { UserContext } from '../context.ts';
import { login, loginWithSmsCode, register, requestSmsCode, type RegisterInput } from '../domain/accounts.ts';
import { setUserRoles, setUserStatus } from '../domain/admin.ts';
import { changePassword, logout, revokeSession, updateProfile } from '../domain/profile.ts';
import { refreshSession, type AuthPayload } from '../domain/sessions.ts';
import type { SmsPurpose } from '../domain/sms-codes.ts';

/**
 * The sign-in mutations resolve their AuthPayload as the user they have just signed in (schema.graphql): the
 * payload's `user` is @authenticated like every User, so the request's identity becomes that user's.
 */
async function signIn(ctx: UserContext, pending: Promise<AuthPayload>): Promise<AuthPayload> {
  const payload = await pending;
  ctx.identity = payload.identity;
  return payload;
}

export const Mutation = {
  register: (_: unknown, args: { input: RegisterInput }, ctx: UserContext) => signIn(ctx, register(ctx, args.input)),
  login: (_: unknown, args: { input: { login: string; password: string } }, ctx: UserContext) => signIn(ctx, login(ctx, args.input)),
  requestSmsCode: (_: unknown, args: { phone: string; purpose: SmsPurpose }, ctx: UserContext) => requestSmsCode(ctx, args),
  loginWithSmsCode: (_: unknown, args: { phone: string; code: string }, ctx: UserContext) => signIn(ctx, loginWithSmsCode(ctx, args)),
  refreshSession: (_: unknown, args: { refreshToken: string }, ctx: UserContext) => signIn(ctx, refreshSession(ctx, args.refreshToken)),
  logout: (_: unknown, __: unknown, ctx: UserContext) => logout(ctx),
  revokeSession: (_: unknown, args: { id: string }, ctx: UserContext) => revokeSession(ctx, args.id),
  updateProfile: (_: unknown, args: { input: { displayName?: string | null; avatarUrl?: string | null } }, ctx: UserContext) => updateProfile(ctx, args.input),
  changePassword: (_: unknown, args: { currentPassword: string; newPassword: string }, ctx: UserContext) => changePassword(ctx, args),
  setUserRoles: (_: unknown, args: { userId: string; roles: Role[] }, ctx: UserContext) => setUserRoles(ctx, args),
  setUserStatus: (_: unknown, args: { userId: string; status: 'ACTIVE' | 'SUSPENDED' }, ctx: UserContext) => setUserStatus(ctx, args),
};
