import type { ConversationContext } from '../context.ts';
import { requireUserId } from './util.ts';

export const Query = {
  chatModels: (_: unknown, __: unknown, ctx: ConversationContext) => ctx.models.listActive(),
  conversations: (_: unknown, args: { first?: number; after?: string }, ctx: ConversationContext) =>
    ctx.loaders.conversationsOfUser.load({ parentId: requireUserId(ctx), args }),
  /** Another user's (or tenant's) conversation answers null, exactly like a missing one. */
  conversation: async (_: unknown, args: { id: string }, ctx: ConversationContext) => {
    const row = await ctx.loaders.conversation.load(args.id);
    return row && (row.userId === requireUserId(ctx) || isAdmin(ctx)) ? row : null;
  },
};

function isAdmin(ctx: ConversationContext) {
  return ctx.identity.kind === 'user' && ctx.identity.roles.includes('ADMIN');
}
