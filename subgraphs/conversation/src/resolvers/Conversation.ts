import { loadRequired } from '@firefly/server-kit';
import { UNTITLED } from '../domain/derive-title.ts';
import type { ConversationResolvers } from '../generated/resolvers-types.ts';

export const Conversation: ConversationResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.conversation.load(reference.id),
  /** Untitled ('' in the row) until the first message names it. */
  title: (conversation) => conversation.title || UNTITLED,
  owner: (conversation) => ({ __typename: 'User', id: conversation.userId }),
  model: (conversation, _, ctx) => loadRequired(ctx.loaders.model, conversation.modelId, 'chat model'),
  parameters: (conversation) => ({
    temperature: conversation.temperature,
    topP: conversation.topP,
    maxTokens: conversation.maxTokens,
    enableSearch: conversation.enableSearch,
  }),
  messages: (conversation, args, ctx) => ctx.loaders.messagePages.load(conversation.id, args),
  lastMessage: (conversation, _, ctx) => ctx.loaders.lastMessage.load(conversation.id),
};
