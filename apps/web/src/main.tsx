import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { createFireflyClient } from './client/index.ts';
import { App } from './app/App.tsx';
import { FireflyProvider } from './app/firefly.tsx';
import { I18nProvider } from './i18n/index.tsx';
import './styles.css';

const httpUrl = new URL(import.meta.env.FIREFLY_GRAPHQL_URL || '/graphql', window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

const firefly = createFireflyClient({
  httpUrl: httpUrl.href,
  wsUrl: wsUrl.href,
  storage: window.localStorage,
  // Loaded lazily: the manifest is only needed once the first operation goes out.
  manifest: () => import('../persisted-query-manifest.json').then((m) => m.default),
  // One refresh at a time across every tab of this origin: a refresh token works once.
  withLock: navigator.locks ? <T,>(task: () => Promise<T>) => navigator.locks.request('firefly.refresh', task) as Promise<T> : undefined,
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <ApolloProvider client={firefly.apollo}>
        <FireflyProvider value={firefly}>
          <App />
        </FireflyProvider>
      </ApolloProvider>
    </I18nProvider>
  </StrictMode>,
);
