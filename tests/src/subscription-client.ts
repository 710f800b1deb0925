/**
 * Clients for the subscription scenarios: the graphql-ws library client (what applications use) and a raw
 * WebSocket speaking graphql-transport-ws by hand (for close codes, ordering and garbage).
 */
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface TestClient {
  client: Client;
  /** Resolves when the socket closes (with its code), or never. */
  closed: Promise<CloseInfo>;
  /** Close events seen so far. */
  closes: CloseInfo[];
  dispose(): Promise<void>;
}

/** A graphql-ws client that never retries, so each test sees exactly what the gateway did. */
export function connectClient(
  url: string,
  options: {
    token?: string;
    connectionParams?: Record<string, unknown>;
    lazy?: boolean;
    /** graphql-ws's lazyCloseTimeout: how long a lazy socket stays open once its last subscription ended (0). */
    lazyCloseTimeoutMs?: number;
  } = {},
): TestClient {
  const closes: CloseInfo[] = [];
  let resolveClosed: (info: CloseInfo) => void = () => undefined;
  const closed = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: options.lazy ?? true,
    lazyCloseTimeout: options.lazyCloseTimeoutMs ?? 0,
    retryAttempts: 0,
    shouldRetry: () => false,
    onNonLazyError: () => undefined,
    connectionParams: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.connectionParams },
    on: {
      closed: (event) => {
        const info = { code: (event as { code: number }).code, reason: String((event as { reason?: unknown }).reason ?? '') };
        closes.push(info);
        resolveClosed(info);
      },
    },
  });
  return { client, closed, closes, dispose: async () => void (await Promise.resolve(client.dispose()).catch(() => undefined)) };
}

export type Outcome = { kind: 'complete' } | { kind: 'error'; error: unknown };

export interface Collected<T = Record<string, unknown>> {
  /**
   * receivedAt: performance.now() when the message came in (to compare with other performance.now() readings);
   * receivedAtWallMs: Date.now() at the same moment, to compare with a stamp another process took with Date.now()
   * (performance.timeOrigin + performance.now() is not that clock: it runs on the monotonic clock from the process's
   * start and strays from the wall clock by up to a few ms, see tests/bench/images.ts).
   */
  results: Array<ExecutionResult<T> & { receivedAt: number; receivedAtWallMs: number }>;
  /** Settles when the operation ends (complete or error). */
  outcome: Promise<Outcome>;
  /** Completes the operation from the client side (graphql-ws sends `complete`). */
  unsubscribe(): void;
  /** Resolves once at least `n` results arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

/** Subscribes and records every result with its arrival time. */
export function collect<T = Record<string, unknown>>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const results: Collected<T>['results'] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let settle: (outcome: Outcome) => void = () => undefined;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const unsubscribe = client.subscribe<T>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => {
        results.push({ ...(result as ExecutionResult<T>), receivedAt: performance.now(), receivedAtWallMs: Date.now() });
        for (const waiter of [...waiters]) {
          if (results.length >= waiter.n) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      },
      error: (error) => settle({ kind: 'error', error }),
      complete: () => settle({ kind: 'complete' }),
    },
  );
  return {
    results,
    outcome,
    unsubscribe,
    waitFor(n, timeoutMs = 10_000) {
      if (results.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${results.length} of ${n} results within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

/** Error codes (`extensions.code`) of a graphql-ws `error` outcome or of a result's errors. */
export function codesOf(errors: unknown): string[] {
  const list = Array.isArray(errors) ? errors : [];
  return list.map((e) => String((e as { extensions?: { code?: unknown } }).extensions?.code));
}

export interface RawSocket {
  socket: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<CloseInfo>;
  send(message: unknown): void;
  sendRaw(data: string | Buffer, options?: { binary?: boolean }): void;
  next(match?: (message: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** A WebSocket with the graphql-transport-ws subprotocol and nothing else. */
export function openRaw(
  url: string,
  options: { protocol?: string | string[]; autoPong?: boolean; /** Source address, e.g. `127.0.0.2`: a client IP of its own (rate limits). */ localAddress?: string } = {},
): Promise<RawSocket> {
  const socket = new WebSocket(url, options.protocol ?? 'graphql-transport-ws', { autoPong: options.autoPong ?? true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  const messages: Array<Record<string, unknown>> = [];
  const watchers = new Set<() => void>();
  const closed = new Promise<CloseInfo>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on('error', () => undefined);
  socket.on('message', (data) => {
    try {
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    } catch {
      messages.push({ unparsable: data.toString() });
    }
    for (const watcher of [...watchers]) watcher();
  });
  let seen = 0;
  const raw: RawSocket = {
    socket,
    messages,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (data, options) => socket.send(data, { binary: options?.binary ?? false }),
    next(match = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          while (seen < messages.length) {
            const message = messages[seen++]!;
            if (match(message)) {
              watchers.delete(check);
              clearTimeout(timer);
              resolve(message);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms (got ${JSON.stringify(messages.slice(-3))})`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(raw));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}
