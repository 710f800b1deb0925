import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * Refuses subscription operations sent over HTTP with BAD_USER_INPUT and a pointer to graphql-ws, before
 * `@apollo/gateway` plans them and fails with its internal "Execution of subscriptions not supported by gateway".
 */
export function rejectHttpSubscriptionsPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions are served over graphql-ws (WebSocket subprotocol graphql-transport-ws) on this same /graphql path, not over HTTP', {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        },
      };
    },
  };
}
