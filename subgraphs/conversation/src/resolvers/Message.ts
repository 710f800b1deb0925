import type { ConversationContext } from '../context.ts';
import type { MessageRow } from '../domain/ports.ts';

export const Message = {
  __resolveReference: (reference: { id: string }, ctx: ConversationContext) => ctx.loaders.message.load(reference.id),
  conversation: (message: MessageRow, _: unknown, ctx: ConversationContext) => ctx.loaders.conversation.load(message.conversationId),
  usage: (message: MessageRow) =>
    message.inputTokens === null && message.outputTokens === null
      ? null
      : {
          inputTokens: message.inputTokens ?? 0,
          outputTokens: message.outputTokens ?? 0,
          totalTokens: (message.inputTokens ?? 0) + (message.outputTokens ?? 0),
        },
};
