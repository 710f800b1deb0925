import type { ConversationContext } from '../context.ts';

export const User = {
  __resolveReference: (reference: { id: string }) => reference,
  conversations: (user: { id: string }, args: { first?: number; after?: string }, ctx: ConversationContext) =>
    ctx.loaders.conversationPages.load(user.id, args),
};
