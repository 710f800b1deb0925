import { internalError, isAppError } from '@firefly/errors';
import { watchMessageStream, type MessageStreamEvent } from '../generation/watch-message-stream.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';
import { conversationScope } from './scope.ts';

export const Subscription: SubscriptionResolvers = {
  messageStream: {
    /**
     * graphql-ws sends subscribe-time errors as they are (Apollo's formatError does not run on this path), so
     * anything that is not one of our typed errors is masked here and logged.
     */
    subscribe: async (_, args, ctx) => {
      try {
        return await watchMessageStream(conversationScope(ctx), args.messageId, args.afterSeq);
      } catch (error) {
        if (isAppError(error)) throw error;
        ctx.logger.error({ err: error }, 'messageStream could not start');
        throw internalError();
      }
    },
    resolve: (event: MessageStreamEvent) => event,
  },
};
