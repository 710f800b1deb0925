import type { ConversationContext } from '../context.ts';
import type { ConversationRow } from '../domain/ports.ts';
import { UNTITLED } from '../domain/derive-title.ts';

export const Conversation = {
  __resolveReference: (reference: { id: string }, ctx: ConversationContext) => ctx.loaders.conversation.load(reference.id),
  /** Untitled ('' in the row) until the first message names it. */
  title: (conversation: ConversationRow) => conversation.title || UNTITLED,
  owner: (conversation: ConversationRow) => ({ __typename: 'User', id: conversation.userId }),
  model: (conversation: ConversationRow, _: unknown, ctx: ConversationContext) => ctx.loaders.model.load(conversation.modelId),
  parameters: (conversation: ConversationRow) => ({
    temperature: conversation.temperature,
    topP: conversation.topP,
    maxTokens: conversation.maxTokens,
    enableSearch: conversation.enableSearch,
  }),
  messages: (conversation: ConversationRow, args: { first?: number; after?: string }, ctx: ConversationContext) =>
    ctx.loaders.messagePages.load(conversation.id, args),
  lastMessage: (conversation: ConversationRow, _: unknown, ctx: ConversationContext) => ctx.loaders.lastMessage.load(conversation.id),
};
