import { createContext, useContext, useEffect, useState } from 'react';
import type { FireflyClient, TokenPair } from '../client/index.ts';

const FireflyContext = createContext<FireflyClient | null>(null);
export const FireflyProvider = FireflyContext.Provider;

export function useFirefly(): FireflyClient {
  const value = useContext(FireflyContext);
  if (!value) throw new Error('useFirefly outside FireflyProvider');
  return value;
}

export type AuthState = { signedIn: true; tokens: TokenPair } | { signedIn: false; ended: boolean };

/** Signed in or not, following the token session (this tab's sign-in, refreshes, the session ending). */
export function useAuthState(): AuthState {
  const { session } = useFirefly();
  const [state, setState] = useState<AuthState>(() => {
    const tokens = session.current();
    return tokens ? { signedIn: true, tokens } : { signedIn: false, ended: false };
  });
  useEffect(() => {
    const unsubscribe = session.subscribe((tokens, reason) => setState(tokens ? { signedIn: true, tokens } : { signedIn: false, ended: reason === 'ended' }));
    // Another tab signed in or out: follow it.
    const onStorage = () => {
      const tokens = session.current();
      setState((previous) => (tokens ? { signedIn: true, tokens } : previous.signedIn ? { signedIn: false, ended: false } : previous));
    };
    window.addEventListener('storage', onStorage);
    return () => {
      unsubscribe();
      window.removeEventListener('storage', onStorage);
    };
  }, [session]);
  return state;
}
