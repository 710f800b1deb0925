import { requireUserId, visibleToCaller } from '@firefly/server-kit';
import type { ConversationContext } from '../context.ts';

export const Query = {
  chatModels: (_: unknown, __: unknown, ctx: ConversationContext) => ctx.models.listActive(),
  conversations: (_: unknown, args: { first?: number; after?: string }, ctx: ConversationContext) => ctx.loaders.conversationPages.load(requireUserId(ctx), args),
  /** Another user's (or tenant's) conversation answers null, exactly like a missing one. */
  conversation: async (_: unknown, args: { id: string }, ctx: ConversationContext) => visibleToCaller(ctx, await ctx.loaders.conversation.load(args.id)),
};
