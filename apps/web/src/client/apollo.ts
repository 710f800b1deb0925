/**
 * The app's one Apollo Client: queries and mutations over HTTP POST, sent by persisted-query id from the committed
 * manifest (Apollo's protocol: the id first, the full text only when the server answers PERSISTED_QUERY_NOT_FOUND);
 * subscriptions over graphql-ws. Every request carries a fresh access token; a request refused as UNAUTHENTICATED
 * is refreshed once and replayed, so an expired token never reaches the person.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import { from, mergeMap } from 'rxjs';
import { RefreshSessionDocument } from '../generated/graphql/graphql.ts';
import { isUnauthenticated } from './errors.ts';
import { persistedQueryIdsFromManifest, sortTopLevelDefinitions, type ManifestIds } from './persisted-ids.ts';
import { createTokenSession, SessionEndedError, type KeyValueStorage, type TokenSession, type TokenSessionOptions } from './session.ts';

export interface FireflyClientOptions {
  /** GraphQL over HTTP, e.g. `http://localhost:4000/graphql` or `/graphql` behind the dev server's proxy. */
  httpUrl: string;
  /** graphql-ws, e.g. `ws://localhost:4000/graphql`. */
  wsUrl: string;
  storage: KeyValueStorage;
  /** The persisted query manifest (id per operation name). */
  manifest: ManifestIds | (() => Promise<ManifestIds>);
  /** WebSocket implementation where there is no global one (Node 20). */
  webSocketImpl?: unknown;
  fetch?: typeof fetch;
  now?: () => number;
  withLock?: TokenSessionOptions['withLock'];
  /** Called whenever the graphql-ws socket opens or closes (the UI shows a reconnecting hint). */
  onSocketState?: (state: 'connected' | 'closed') => void;
}

export interface FireflyClient {
  apollo: ApolloClient;
  session: TokenSession;
  ws: WsClient;
  /** Forgets every cached answer and reconnects the socket, after a sign-in, sign-out or account switch. */
  resetForNewIdentity(): Promise<void>;
  dispose(): Promise<void>;
}

interface RequestContext {
  /** Send without Authorization and never refresh (sign-in, sign-up, the refresh itself). */
  anonymous?: boolean;
  /** The token this attempt carried, so a refusal refreshes only if nobody replaced it yet. */
  accessToken?: string;
  retriedAfterRefresh?: boolean;
}

export function createFireflyClient(options: FireflyClientOptions): FireflyClient {
  // The session's refresh goes through `apollo` (created below; by id, like every other operation).
  const session = createTokenSession({
    storage: options.storage,
    now: options.now,
    withLock: options.withLock,
    async refresh(refreshToken) {
      try {
        const { data } = await apollo.mutate({ mutation: RefreshSessionDocument, variables: { refreshToken }, context: { anonymous: true } satisfies RequestContext });
        if (!data) throw new Error('refreshSession returned no data');
        return data.refreshSession;
      } catch (error) {
        if (isUnauthenticated(error)) throw new SessionEndedError();
        throw error;
      }
    },
  });

  const auth = new SetContextLink(async (previous) => {
    const context = previous as RequestContext & { headers?: Record<string, string> };
    if (context.anonymous) return {};
    const accessToken = await session.accessToken();
    if (!accessToken) return {};
    return { accessToken, headers: { ...context.headers, authorization: `Bearer ${accessToken}` } };
  });

  const refreshOnUnauthenticated = new ErrorLink(({ error, operation, forward }) => {
    const context = operation.getContext() as RequestContext;
    if (context.anonymous || context.retriedAfterRefresh || !context.accessToken || !isUnauthenticated(error)) return;
    return from(session.refresh(context.accessToken)).pipe(
      mergeMap((accessToken) => {
        // Refused again (revoked, suspended): the original error stands and the session is already cleared.
        if (!accessToken) throw error;
        operation.setContext({ retriedAfterRefresh: true });
        return forward(operation);
      }),
    );
  });

  const manifest = options.manifest;
  const persisted = new PersistedQueryLink(persistedQueryIdsFromManifest(typeof manifest === 'function' ? manifest : () => manifest));
  const http = new HttpLink({ uri: options.httpUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });

  const ws = createWsClient({
    url: options.wsUrl,
    lazy: true,
    // Reconnecting is the stream followers' job (message-stream.ts, image-job.ts): they resubscribe with afterSeq,
    // which graphql-ws's own retry cannot do (it replays the original variables).
    retryAttempts: 0,
    connectionParams: async () => {
      const accessToken = await session.accessToken();
      return accessToken ? { authorization: `Bearer ${accessToken}` } : {};
    },
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    on: {
      connected: () => options.onSocketState?.('connected'),
      closed: () => options.onSocketState?.('closed'),
    },
  });

  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
  };

  const apollo = new ApolloClient({
    documentTransform: sortTopLevelDefinitions,
    cache: new InMemoryCache({
      typePolicies: {
        // Lists are read page by page with `first`/`after`; the screens refetch rather than merge.
        User: { fields: { ledger: { merge: false }, orders: { merge: false } } },
      },
    }),
    link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), ApolloLink.from([refreshOnUnauthenticated, auth, persisted, http])),
  });

  return {
    apollo,
    session,
    ws,
    async resetForNewIdentity() {
      ws.terminate();
      await apollo.clearStore();
    },
    async dispose() {
      apollo.stop();
      await ws.dispose();
    },
  };
}
