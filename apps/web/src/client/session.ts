/**
 * The signed-in session as the browser keeps it: an access token (short-lived JWT) and a refresh token that works
 * exactly once. Refreshing is single-flight — within a tab by one shared promise, across tabs by a lock — because
 * presenting an already-used refresh token ends the whole session on the server.
 */

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
}

/** What the server answers on sign-in and refresh. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
}

/** The subset of the Web Storage API the session needs (localStorage in the browser). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Thrown by `refresh` when the server refused the refresh token: the session is over. */
export class SessionEndedError extends Error {
  constructor(message = 'The session has ended') {
    super(message);
    this.name = 'SessionEndedError';
  }
}

export interface TokenSessionOptions {
  storage: KeyValueStorage;
  /** Exchanges a refresh token for new tokens; throws SessionEndedError when the server refuses it. */
  refresh: (refreshToken: string) => Promise<IssuedTokens>;
  /** Default `Date.now`. */
  now?: () => number;
  /**
   * Runs `task` while holding a lock shared by every tab of this origin (Web Locks). Default: runs it directly,
   * which is enough where there is one tab (tests).
   */
  withLock?: <T>(task: () => Promise<T>) => Promise<T>;
  /** Refresh this long before the access token expires, so no request ever carries an expired one. Default 60 s. */
  refreshMarginMs?: number;
  /** Storage key. Default `firefly.session`. */
  storageKey?: string;
}

export type SessionListener = (tokens: TokenPair | null, reason: 'signed-in' | 'refreshed' | 'signed-out' | 'ended') => void;

export interface TokenSession {
  /** The stored tokens, or null when signed out. */
  current(): TokenPair | null;
  /** A usable access token: the stored one, or a fresh one when it expires within the margin; null when signed out. */
  accessToken(): Promise<string | null>;
  /**
   * Refreshes now unless another caller (this tab or another) already replaced `staleAccessToken`; resolves to the
   * new access token, or null when the session ended.
   */
  refresh(staleAccessToken?: string): Promise<string | null>;
  signIn(tokens: IssuedTokens): void;
  signOut(): void;
  subscribe(listener: SessionListener): () => void;
}

export function createTokenSession(options: TokenSessionOptions): TokenSession {
  const { storage, refresh: exchange } = options;
  const now = options.now ?? Date.now;
  const withLock = options.withLock ?? ((task) => task());
  const margin = options.refreshMarginMs ?? 60_000;
  const key = options.storageKey ?? 'firefly.session';
  const listeners = new Set<SessionListener>();
  let inflight: Promise<string | null> | undefined;

  const load = (): TokenPair | null => {
    const raw = storage.getItem(key);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<TokenPair>;
      if (typeof parsed.accessToken === 'string' && typeof parsed.refreshToken === 'string' && typeof parsed.expiresAt === 'number') {
        return { accessToken: parsed.accessToken, refreshToken: parsed.refreshToken, expiresAt: parsed.expiresAt };
      }
    } catch {
      // A corrupt entry is treated as signed out.
    }
    return null;
  };
  const toPair = (tokens: IssuedTokens): TokenPair => ({
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: now() + tokens.expiresIn * 1000,
  });
  const emit: SessionListener = (tokens, reason) => {
    for (const listener of listeners) listener(tokens, reason);
  };
  const isFresh = (pair: TokenPair) => pair.expiresAt - margin > now();

  const refresh = (staleAccessToken?: string): Promise<string | null> =>
    (inflight ??= withLock(async () => {
      // Read again inside the lock: another tab may have refreshed (and so used up our refresh token) meanwhile.
      const stored = load();
      if (!stored) return null;
      // Someone else already replaced the token we found stale (or it was never stale): use theirs.
      const replaced = staleAccessToken === undefined || stored.accessToken !== staleAccessToken;
      if (replaced && isFresh(stored)) return stored.accessToken;
      try {
        const pair = toPair(await exchange(stored.refreshToken));
        storage.setItem(key, JSON.stringify(pair));
        emit(pair, 'refreshed');
        return pair.accessToken;
      } catch (error) {
        if (!(error instanceof SessionEndedError)) throw error;
        storage.removeItem(key);
        emit(null, 'ended');
        return null;
      }
    }).finally(() => {
      inflight = undefined;
    }));

  return {
    current: load,
    async accessToken() {
      const stored = load();
      if (!stored) return null;
      if (isFresh(stored)) return stored.accessToken;
      return refresh();
    },
    refresh: (stale) => refresh(stale ?? load()?.accessToken ?? ''),
    signIn(tokens) {
      const pair = toPair(tokens);
      storage.setItem(key, JSON.stringify(pair));
      emit(pair, 'signed-in');
    },
    signOut() {
      storage.removeItem(key);
      emit(null, 'signed-out');
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
