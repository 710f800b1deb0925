import { parsePage, toConnection } from '@firefly/server-kit';
import type { UserContext } from '../context.ts';

export const Query = {
  me: (_: unknown, __: unknown, ctx: UserContext) => (ctx.identity.kind === 'user' ? ctx.loaders.user.load(ctx.identity.userId) : null),
  user: (_: unknown, args: { id: string }, ctx: UserContext) => ctx.loaders.user.load(args.id),
  users: async (_: unknown, args: { first?: number; after?: string; query?: string }, ctx: UserContext) => {
    const page = parsePage(args);
    return toConnection(await ctx.users.list(page, args.query), page.take);
  },
  mySessions: async (_: unknown, __: unknown, ctx: UserContext) => {
    if (ctx.identity.kind !== 'user') return [];
    const sessionId = ctx.identity.sessionId;
    const rows = await ctx.sessions.listActive(ctx.identity.userId);
    return rows.map((row) => ({ ...row, current: row.id === sessionId }));
  },
};
