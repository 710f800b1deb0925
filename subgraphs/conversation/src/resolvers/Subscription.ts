import { watchMessageStream, type MessageStreamEvent } from '../generation/watch-message-stream.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';
import { conversationScope } from './scope.ts';

export const Subscription: SubscriptionResolvers = {
  messageStream: {
    /**
     * A failure to start (Redis or MySQL unreachable, a bug) is formatted by the server as over HTTP (server-kit's
     * graphql-ws error formatting): UPSTREAM_UNAVAILABLE naming the service, or masked and logged.
     */
    subscribe: (_, args, ctx) => watchMessageStream(conversationScope(ctx), args.messageId, args.afterSeq),
    resolve: (event: MessageStreamEvent) => event,
  },
};
