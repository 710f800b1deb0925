import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { reconnecting } from '../client/index.ts';
import { CreditBalanceDocument, LogoutDocument, ViewerDocument } from '../generated/graphql/graphql.ts';
import { useI18n, type Locale } from '../i18n/index.tsx';
import { AuthScreen } from '../screens/AuthScreen.tsx';
import { ChatScreen } from '../screens/ChatScreen.tsx';
import { CreditsScreen } from '../screens/CreditsScreen.tsx';
import { PaintScreen } from '../screens/PaintScreen.tsx';
import { SessionsScreen } from '../screens/SessionsScreen.tsx';
import { useAuthState, useFirefly } from './firefly.tsx';
import { hrefOf, useRoute, type Route } from './router.ts';

export function App() {
  const auth = useAuthState();
  const firefly = useFirefly();
  // Signed out (or the session ended): the next person must not see this one's cached answers or live socket.
  // Cleared after the signed-in screens have unmounted, so no query of theirs is cut off halfway.
  useEffect(() => {
    if (!auth.signedIn) void firefly.resetForNewIdentity();
  }, [auth.signedIn, firefly]);
  return auth.signedIn ? <SignedIn /> : <AuthScreen sessionEnded={auth.ended} />;
}

export function LanguageSwitch() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="language">
      <span className="visually-hidden">{t.language}</span>
      <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} aria-label={t.language}>
        <option value="zh">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

/** The skip link moves the focus into the content (the hash is the router's, so it is not followed as an anchor). */
function skipToMain(event: { preventDefault(): void }) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

function SignedIn() {
  const { t } = useI18n();
  const route = useRoute();
  const firefly = useFirefly();
  const viewer = useQuery(ViewerDocument);
  const balance = useQuery(CreditBalanceDocument);
  const [logout] = useMutation(LogoutDocument);
  const [socketDown, setSocketDown] = useState(reconnecting.count() > 0);
  useEffect(() => reconnecting.subscribe((count) => setSocketDown(count > 0)), []);

  const signOut = async () => {
    // Sign out locally whatever the server says (it may be unreachable); the server ends the session when it can.
    await logout().catch(() => undefined);
    firefly.session.signOut();
  };

  const tabs: Array<{ route: Route; label: string }> = [
    { route: { screen: 'chat' }, label: t.nav.chat },
    { route: { screen: 'paint' }, label: t.nav.paint },
    { route: { screen: 'credits' }, label: t.nav.credits },
    { route: { screen: 'sessions' }, label: t.nav.sessions },
  ];
  const available = balance.data?.me?.creditBalance.available;

  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        {t.skipToContent}
      </a>
      <header className="topbar">
        <span className="brand" aria-hidden="true">
          ✦ {t.appName}
        </span>
        <nav aria-label={t.nav.main}>
          <ul>
            {tabs.map((tab) => (
              <li key={tab.route.screen}>
                <a href={hrefOf(tab.route)} aria-current={route.screen === tab.route.screen ? 'page' : undefined}>
                  {tab.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-end">
          <a className="balance" href={hrefOf({ screen: 'credits' })} data-testid="balance">
            {available === undefined ? '…' : t.balance(available)}
          </a>
          <span className="viewer">{viewer.data?.me?.displayName}</span>
          <LanguageSwitch />
          <button type="button" onClick={() => void signOut()}>
            {t.signOut}
          </button>
        </div>
      </header>
      <div className="status-line" role="status" aria-live="polite">
        {socketDown ? t.reconnecting : ''}
      </div>
      <main id="main" tabIndex={-1}>
        {route.screen === 'chat' && <ChatScreen conversationId={route.conversationId} />}
        {route.screen === 'paint' && <PaintScreen />}
        {route.screen === 'credits' && <CreditsScreen />}
        {route.screen === 'sessions' && <SessionsScreen />}
      </main>
    </div>
  );
}
