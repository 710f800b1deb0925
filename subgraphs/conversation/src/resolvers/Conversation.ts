import type { ConversationContext } from '../context.ts';
import type { ConversationRow } from '../data/conversations.ts';

export const Conversation = {
  __resolveReference: (reference: { id: string }, ctx: ConversationContext) => ctx.loaders.conversation.load(reference.id),
  owner: (conversation: ConversationRow) => ({ __typename: 'User', id: conversation.userId }),
  model: (conversation: ConversationRow, _: unknown, ctx: ConversationContext) => ctx.loaders.model.load(conversation.modelId),
  parameters: (conversation: ConversationRow) => ({
    temperature: conversation.temperature,
    topP: conversation.topP,
    maxTokens: conversation.maxTokens,
    enableSearch: conversation.enableSearch,
  }),
  messages: (conversation: ConversationRow, args: { first?: number; after?: string }, ctx: ConversationContext) =>
    ctx.loaders.messagesOfConversation.load({ parentId: conversation.id, args }),
  lastMessage: (conversation: ConversationRow, _: unknown, ctx: ConversationContext) => ctx.loaders.lastMessage.load(conversation.id),
};
