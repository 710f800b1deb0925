import type { UserContext } from '../context.ts';
import { login, loginWithSmsCode, register, requestSmsCode } from '../domain/accounts.ts';
import { setUserRoles, setUserStatus } from '../domain/admin.ts';
import { createPartner, createPartnerApiKey, revokePartnerApiKey, recordPartnerUsage, setPartnerStatus } from '../domain/partners.ts';
import { sendOrderPaidSms } from '../domain/order-paid-sms.ts';
import { publishPersistedQueries } from '../domain/persisted-query-lists.ts';
import { changePassword, logout, revokeSession, updateProfile } from '../domain/profile.ts';
import { refreshSession, type AuthPayload } from '../domain/sessions.ts';
import { setSetting } from '../domain/settings.ts';
import { createTenant, setTenantHosts, setTenantStatus } from '../domain/tenants.ts';
import type { MutationResolvers } from '../generated/resolvers-types.ts';

/**
 * The sign-in mutations resolve their AuthPayload as the user they have just signed in (schema.graphql): the
 * payload's `user` is @authenticated like every User, so the request's identity becomes that user's.
 */
async function signIn(ctx: UserContext, pending: Promise<AuthPayload>): Promise<AuthPayload> {
  const payload = await pending;
  ctx.identity = payload.identity;
  return payload;
}

export const Mutation: MutationResolvers = {
  register: (_, args, ctx) => signIn(ctx, register(ctx, args.input)),
  login: (_, args, ctx) => signIn(ctx, login(ctx, args.input)),
  requestSmsCode: (_, args, ctx) => requestSmsCode(ctx, args),
  loginWithSmsCode: (_, args, ctx) => signIn(ctx, loginWithSmsCode(ctx, args)),
  refreshSession: (_, args, ctx) => signIn(ctx, refreshSession(ctx, args.refreshToken)),
  logout: (_, __, ctx) => logout(ctx),
  revokeSession: (_, args, ctx) => revokeSession(ctx, args.id),
  updateProfile: (_, args, ctx) => updateProfile(ctx, args.input),
  changePassword: (_, args, ctx) => changePassword(ctx, args),
  setUserRoles: (_, args, ctx) => setUserRoles(ctx, args),
  setUserStatus: (_, args, ctx) => setUserStatus(ctx, args),
  createPartner: (_, args, ctx) => createPartner(ctx, args.input),
  createPartnerApiKey: (_, args, ctx) => createPartnerApiKey(ctx, args),
  revokePartnerApiKey: (_, args, ctx) => revokePartnerApiKey(ctx, args.id),
  setPartnerStatus: (_, args, ctx) => setPartnerStatus(ctx, args),
  publishPersistedQueries: (_, args, ctx) => publishPersistedQueries(ctx, args),
  createTenant: (_, args, ctx) => createTenant(ctx, args.input),
  setTenantHosts: (_, args, ctx) => setTenantHosts(ctx, args),
  setTenantStatus: (_, args, ctx) => setTenantStatus(ctx, args),
  sendOrderPaidSms: (_, args, ctx) => sendOrderPaidSms(ctx, args),
  setSetting: (_, args, ctx) => setSetting(ctx, args),
  recordPartnerKeyUse: async (_, args, ctx) => {
    await ctx.partners.recordUse(args.uses);
    return true;
  },
  recordPartnerUsage: async (_, args, ctx) => {
    await recordPartnerUsage(ctx, args.usage);
    return true;
  },
};
