import { loadRequired } from '@firefly/server-kit';
import type { MessageResolvers } from '../generated/resolvers-types.ts';

export const Message: MessageResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.message.load(reference.id),
  conversation: (message, _, ctx) => loadRequired(ctx.loaders.conversation, message.conversationId, 'conversation'),
  usage: (message) =>
    message.inputTokens === null && message.outputTokens === null
      ? null
      : {
          inputTokens: message.inputTokens ?? 0,
          outputTokens: message.outputTokens ?? 0,
          totalTokens: (message.inputTokens ?? 0) + (message.outputTokens ?? 0),
        },
};
