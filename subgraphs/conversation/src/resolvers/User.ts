import type { UserResolvers } from '../generated/resolvers-types.ts';

export const User: UserResolvers = {
  __resolveReference: (reference) => reference,
  conversations: (user, args, ctx) => ctx.loaders.conversationPages.load(user.id, args),
};
