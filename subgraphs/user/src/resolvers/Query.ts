import { parsePage, toConnection } from '@firefly/server-kit';
import { partnerKeyForGateway } from '../domain/partners.ts';
import { listSettings } from '../domain/settings.ts';
import { listTenants } from '../domain/tenants.ts';
import type { QueryResolvers } from '../generated/resolvers-types.ts';

export const Query: QueryResolvers = {
  me: (_, __, ctx) => (ctx.identity.kind === 'user' ? ctx.loaders.user.load(ctx.identity.userId) : null),
  user: (_, args, ctx) => ctx.loaders.user.load(args.id),
  users: async (_, args, ctx) => {
    const page = parsePage(args);
    return toConnection(await ctx.users.list(page, args.query), page.take);
  },
  partners: async (_, args, ctx) => {
    const page = parsePage(args);
    return toConnection(await ctx.partners.list(page), page.take);
  },
  partner: (_, args, ctx) => ctx.loaders.partner.load(args.id),
  tenants: (_, __, ctx) => listTenants(ctx),
  settings: (_, __, ctx) => listSettings(ctx),
  partnerKeyForGateway: (_, args, ctx) => partnerKeyForGateway(ctx, args.prefix),
  auditEvents: async (_, args, ctx) => {
    const page = parsePage(args);
    return toConnection(await ctx.auditEvents.list(page, args.action), page.take);
  },
  mySessions: async (_, __, ctx) => {
    if (ctx.identity.kind !== 'user') return [];
    const sessionId = ctx.identity.sessionId;
    const rows = await ctx.sessions.listActive(ctx.identity.userId);
    return rows.map((row) => ({ ...row, current: row.id === sessionId }));
  },
};
