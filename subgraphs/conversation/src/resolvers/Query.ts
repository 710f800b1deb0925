import { requireUserId, visibleToCaller } from '@firefly/server-kit';
import type { QueryResolvers } from '../generated/resolvers-types.ts';

export const Query: QueryResolvers = {
  chatModels: (_, __, ctx) => ctx.models.listActive(),
  conversations: (_, args, ctx) => ctx.loaders.conversationPages.load(requireUserId(ctx), args),
  /** Another user's (or tenant's) conversation answers null, exactly like a missing one. */
  conversation: async (_, args, ctx) => visibleToCaller(ctx, await ctx.loaders.conversation.load(args.id)),
};
