/**
 * The chaos suite's platform (tests/e2e/chaos): user, billing, conversation and the gateway as separate processes
 * on fixed ports (so a killed process restarts where the others expect it), a redis-server of its own on a spare
 * port (so it can be restarted), this run's MariaDB database and the DashScope simulator. Plus the load a scenario
 * runs (chat users streaming through the gateway, background reads) and the invariants checked after each.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessTokenIssuer, generateSigningKey, type Role } from '@firefly/auth';
import { createSessionStore } from '@firefly/auth/sessions';
import { createDb, type Db } from '@firefly/db';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { closeRedis, createRedis, type Redis } from '@firefly/redis';
import { composeSupergraph, formatCompositionErrors, loadSubgraphs } from '@firefly/supergraph';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { seedUserWithHistory } from './fixtures.ts';
import { startOwnRedis, type OwnRedis } from './own-redis.ts';
import { freePort } from './processes.ts';
import { startProcess, type ManagedProcess } from './subscription-processes.ts';

export type ChaosService = 'user' | 'billing' | 'conversation' | 'gateway';

const ENTRIES: Record<ChaosService, { entry: string; portVar: string }> = {
  user: { entry: 'subgraphs/user/src/main.ts', portVar: 'USER_SUBGRAPH_PORT' },
  billing: { entry: 'subgraphs/billing/src/main.ts', portVar: 'BILLING_SUBGRAPH_PORT' },
  conversation: { entry: 'subgraphs/conversation/src/main.ts', portVar: 'CONVERSATION_SUBGRAPH_PORT' },
  gateway: { entry: 'gateway/src/main.ts', portVar: 'GATEWAY_PORT' },
};

/** Lease and sweep of the chaos platform: a dead generation is finished within about LEASE + SWEEP seconds. */
export const LEASE_SECONDS = 2;
export const SWEEP_SECONDS = 1;
/** Billing's hold expiry sweep (its first run is this long after billing starts). */
const RESERVATION_SWEEP_SECONDS = 5;

export interface ChaosPlatform {
  db: Db;
  redis: Redis;
  ownRedis: OwnRedis;
  simulator: DashScopeSimulator;
  processes: Record<ChaosService, ManagedProcess>;
  gatewayUrl: string;
  /** kill -9 (SIGKILL) a process; resolves when it is gone. */
  kill(service: ChaosService): Promise<void>;
  /** Starts a killed process again on its port; resolves when it is ready. */
  restart(service: ChaosService): Promise<void>;
  /** A user with credits and a live session (saved again by `refreshSessions` after a Redis restart). */
  createUser(credits: number): Promise<ChaosUser>;
  /** Saves every user's session again (a Redis restart without persistence forgot them). */
  refreshSessions(): Promise<void>;
  /** POST to the gateway, recorded in `requests`. */
  request(query: string, options?: { variables?: Record<string, unknown>; token?: string }): Promise<RecordedResponse>;
  requests: RecordedResponse[];
  /** A graphql-ws client on the gateway. */
  ws(token: string): Client;
  stop(): Promise<void>;
}

export interface ChaosUser {
  id: string;
  tenantId: string;
  token: string;
}

export interface RecordedResponse {
  /** When the request was sent and when its answer (or failure) came back. */
  at: number;
  end: number;
  /** HTTP status; 0 when the connection failed (the gateway was down). */
  status: number;
  codes: string[];
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } | null;
}

export async function startChaosPlatform(options: { simulatorTokenDelayMs?: number; minDeltas?: number; gatewayNodeArgs?: string[] } = {}): Promise<ChaosPlatform> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through vitest (globalSetup creates the database)');
  const ownRedis = await startOwnRedis();
  const keyPrefix = `chaos:${randomBytes(4).toString('hex')}:`;
  const simulator = await startDashScopeSimulator({ tokenDelayMs: options.simulatorTokenDelayMs ?? 40, minDeltas: options.minDeltas ?? 60 });
  const signingKey = await generateSigningKey(`chaos-${randomUUID().slice(0, 8)}`);
  const internalTokenSecret = randomBytes(32).toString('hex');
  const ports = { user: await freePort(), billing: await freePort(), conversation: await freePort(), gateway: await freePort() };
  const urlOf = (service: ChaosService) => `http://127.0.0.1:${ports[service]}/graphql`;

  const composed = composeSupergraph(loadSubgraphs({ user: urlOf('user'), conversation: urlOf('conversation'), image: 'http://127.0.0.1:9/graphql', billing: urlOf('billing') }));
  if (!composed.ok) throw new Error(`composition failed:\n${formatCompositionErrors(composed.errors)}`);
  const supergraphPath = join(mkdtempSync(join(tmpdir(), 'firefly-chaos-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);

  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: ownRedis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    INTERNAL_TOKEN_SECRET: internalTokenSecret,
    ACCESS_TOKEN_KEYS: JSON.stringify([signingKey.privateJwk]),
    SHUTDOWN_GRACE_SECONDS: '5',
    // A killed process is back within seconds: let the gateway's circuit breaker probe it again at once, so the next
    // scenario does not start against a breaker still open from the previous kill.
    SUBGRAPH_BREAKER_HALF_OPEN_MS: '200',
    BILLING_SUBGRAPH_URL: urlOf('billing'),
    BILLING_TIMEOUT_MS: '1000',
    DASHSCOPE_BASE_URL: simulator.baseUrl,
    DASHSCOPE_API_KEY: simulator.apiKey,
    GENERATION_LEASE_SECONDS: String(LEASE_SECONDS),
    GENERATION_SWEEP_INTERVAL_SECONDS: String(SWEEP_SECONDS),
    RESERVATION_SWEEP_INTERVAL_SECONDS: String(RESERVATION_SWEEP_SECONDS),
    SUPERGRAPH_PATH: supergraphPath,
    USER_SUBGRAPH_URL: urlOf('user'),
    CONVERSATION_SUBGRAPH_URL: urlOf('conversation'),
    IMAGE_SUBGRAPH_URL: 'http://127.0.0.1:9/graphql',
  };
  const launch = (service: ChaosService) =>
    startProcess(service, ENTRIES[service].entry, { ...env, [ENTRIES[service].portVar]: String(ports[service]) }, { nodeArgs: service === 'gateway' ? (options.gatewayNodeArgs ?? []) : [] });

  const processes = {} as Record<ChaosService, ManagedProcess>;
  // The test's own client (seeding users, reading invariants) waits generously for a pooled connection: on a loaded
  // machine the default 5 s acquire timeout failed the scenario's setup, not the platform.
  const db = createDb({ url: databaseUrl, connectionLimit: 4, acquireTimeoutMs: 60_000 });
  // The test's own client waits for Redis across a restart (a request-path client would fail at once until it has
  // reconnected, and the scenario saves the sessions again right after the restart).
  const redis = createRedis({ url: ownRedis.url, keyPrefix, name: 'chaos-tests', maxRetriesPerRequest: null });
  const sessions = createSessionStore(redis);
  const issuer = createAccessTokenIssuer([signingKey], { issuer: 'firefly', audience: 'firefly-api', ttlSeconds: 3_600 });
  const liveSessions: Array<Parameters<typeof sessions.save>[0]> = [];
  const requests: RecordedResponse[] = [];
  const clients: Client[] = [];
  try {
    processes.billing = await launch('billing');
    // Both settle before a failure is thrown, so the catch below stops whichever did start.
    const [user, conversation] = await Promise.allSettled([launch('user'), launch('conversation')]);
    if (user.status === 'fulfilled') processes.user = user.value;
    if (conversation.status === 'fulfilled') processes.conversation = conversation.value;
    if (user.status === 'rejected') throw user.reason;
    if (conversation.status === 'rejected') throw conversation.reason;
    processes.gateway = await launch('gateway');
  } catch (error) {
    await Promise.all(Object.values(processes).map((p) => p.kill()));
    await ownRedis.stop();
    await simulator.close();
    throw error;
  }
  const gatewayUrl = urlOf('gateway');

  return {
    db,
    redis,
    ownRedis,
    simulator,
    processes,
    gatewayUrl,
    async kill(service) {
      await processes[service].kill();
    },
    async restart(service) {
      processes[service] = await launch(service);
    },
    async createUser(credits) {
      const { user } = await seedUserWithHistory(db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits });
      const session = { sessionId: randomUUID(), userId: user.id, tenantId: user.tenantId, roles: ['USER'] as Role[], expiresAt: Date.now() + 3_600_000 };
      await sessions.save(session);
      liveSessions.push(session);
      return { id: user.id, tenantId: user.tenantId, token: await issuer.issue(session) };
    },
    async refreshSessions() {
      for (const session of liveSessions) await sessions.save(session);
    },
    async request(query, { variables, token } = {}) {
      const at = Date.now();
      let recorded: RecordedResponse;
      try {
        const response = await fetch(gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        let body: RecordedResponse['body'] = null;
        try {
          body = JSON.parse(text) as RecordedResponse['body'];
        } catch {
          body = null;
        }
        recorded = { at, end: Date.now(), status: response.status, codes: (body?.errors ?? []).map((e) => String(e.extensions?.code)), body };
      } catch {
        recorded = { at, end: Date.now(), status: 0, codes: [], body: null };
      }
      requests.push(recorded);
      return recorded;
    },
    requests,
    ws(token) {
      const client = createClient({
        url: gatewayUrl.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        shouldRetry: () => false,
        onNonLazyError: () => undefined,
        connectionParams: { authorization: `Bearer ${token}` },
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((client) => Promise.resolve(client.dispose()).catch(() => undefined)));
      await Promise.all(Object.values(processes).map((p) => p.stop(5_000)));
      await db.$disconnect();
      await closeRedis(redis).catch(() => undefined);
      await ownRedis.stop();
      await simulator.close();
    },
  };
}

const MESSAGE_STREAM = `subscription Stream($messageId: ID!, $afterSeq: Int) {
  messageStream(messageId: $messageId, afterSeq: $afterSeq) { seq delta done message { id status } }
}`;

/** How one followed answer ended for its subscriber. */
export interface FollowOutcome {
  messageId: string;
  /** `done` received (possibly after resubscribing), or the error code that ended it for good. */
  ending: { kind: 'done'; status: string } | { kind: 'error'; code: string };
  /** Seqs received in order across resubscriptions (afterSeq = the last one seen). */
  seqs: number[];
  resubscriptions: number;
}

/**
 * Follows an answer as a careful client does: on a broken socket or a stream that ended without `done`, it
 * resubscribes (new socket) with afterSeq = the last seq seen, until `done`, an error carrying a code, or `deadlineMs`.
 */
export async function followAnswer(platform: ChaosPlatform, user: ChaosUser, messageId: string, deadlineMs: number): Promise<FollowOutcome> {
  const seqs: number[] = [];
  let resubscriptions = -1;
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    resubscriptions += 1;
    const client = platform.ws(user.token);
    const result = await new Promise<{ done?: string; code?: string; broken?: boolean }>((resolve) => {
      let settled = false;
      const finish = (value: { done?: string; code?: string; broken?: boolean }) => {
        if (settled) return;
        settled = true;
        resolve(value);
      };
      client.subscribe<{ messageStream: { seq: number; done: boolean; message: { status: string } | null } }>(
        { query: MESSAGE_STREAM, variables: { messageId, afterSeq: seqs.at(-1) ?? 0 } },
        {
          next: (value) => {
            const code = value.errors?.[0]?.extensions?.code;
            if (code) {
              // UPSTREAM_UNAVAILABLE while a process restarts: try again; anything else is the subscriber's end.
              finish(code === 'UPSTREAM_UNAVAILABLE' || code === 'UNAUTHENTICATED' ? { broken: true } : { code: String(code) });
              return;
            }
            const event = value.data?.messageStream;
            if (!event) return;
            if (seqs.length === 0 || event.seq > seqs.at(-1)!) seqs.push(event.seq);
            if (event.done) finish({ done: event.message?.status ?? 'UNKNOWN' });
          },
          error: () => finish({ broken: true }),
          complete: () => finish({ broken: true }),
        },
      );
      setTimeout(() => finish({ broken: true }), Math.max(0, deadline - Date.now())).unref();
    });
    await Promise.resolve(client.dispose()).catch(() => undefined);
    if (result.done) return { messageId, ending: { kind: 'done', status: result.done }, seqs, resubscriptions };
    if (result.code) return { messageId, ending: { kind: 'error', code: result.code }, seqs, resubscriptions };
    await sleep(250);
  }
  return { messageId, ending: { kind: 'error', code: 'NO_DONE_BEFORE_DEADLINE' }, seqs, resubscriptions };
}

/** What a scenario lost or leaked: every figure must be 0. */
export interface ChaosReport {
  /** Accounts whose available + reserved differs from the sum of their ledger entries. */
  creditsNotConserved: number;
  /** Accounts whose reserved differs from the sum of their HELD reservations. */
  holdsNotMatchingReserved: number;
  /** Negative available or reserved. */
  negativeBalances: number;
  /** HELD reservations past their expiry by more than the expiry sweep interval (plus slack). */
  holdsPastTtl: number;
  /** Answers still STREAMING after lease + sweep (plus slack) past the chaos. */
  messagesStillStreaming: number;
  /** Answers finished but never settled or released (their hold still HELD, none parked). */
  unsettledAnswers: number;
  /** Settlements still parked in the outbox. */
  pendingSettlements: number;
  /** Subscribers that got neither `done` nor an error code. */
  subscribersWithoutEnd: number;
  /** Subscribers whose seqs had a gap or went back. */
  subscribersWithGaps: number;
  /** HTTP 5xx or INTERNAL_SERVER_ERROR of requests not in flight during the killed piece's window. */
  serverErrors: number;
  /** messageStream iterators still open in the conversation subgraph after every subscriber left. */
  leakedIterators: number;
  /**
   * Unhandled errors in the running processes' output: rejections nobody handled (server-kit logs them as "unhandled
   * rejection") and ioredis's "Unhandled error event" (a connection without an 'error' listener).
   */
  unhandledErrors: number;
}

/** Checks the invariants over every user the scenario created. */
export async function checkInvariants(
  platform: ChaosPlatform,
  input: { userIds: string[]; messageIds: string[]; outcomes: FollowOutcome[]; exemptWindow?: { from: number; to: number } },
): Promise<ChaosReport> {
  const { db } = platform;
  const accounts = await db.creditAccount.findMany({ where: { userId: { in: input.userIds } } });
  let creditsNotConserved = 0;
  let holdsNotMatchingReserved = 0;
  let negativeBalances = 0;
  for (const account of accounts) {
    const ledger = await db.ledgerEntry.aggregate({ where: { accountId: account.id }, _sum: { delta: true } });
    if ((ledger._sum.delta ?? 0) !== account.available + account.reserved) creditsNotConserved += 1;
    const held = await db.reservation.aggregate({ where: { accountId: account.id, status: 'HELD' }, _sum: { amount: true } });
    if ((held._sum.amount ?? 0) !== account.reserved) holdsNotMatchingReserved += 1;
    if (account.available < 0 || account.reserved < 0) negativeBalances += 1;
  }
  const holdsPastTtl = await db.reservation.count({
    where: { userId: { in: input.userIds }, status: 'HELD', expiresAt: { lt: new Date(Date.now() - (RESERVATION_SWEEP_SECONDS + 5) * 1_000) } },
  });
  const messagesStillStreaming = await db.message.count({ where: { id: { in: input.messageIds }, status: 'STREAMING' } });
  const finished = await db.message.findMany({ where: { id: { in: input.messageIds }, status: { not: 'STREAMING' } }, select: { id: true } });
  const stillHeld = await db.reservation.findMany({ where: { referenceId: { in: finished.map((m) => m.id) }, status: 'HELD' }, select: { id: true } });
  const parked = await db.pendingSettlement.findMany({ where: { reservationId: { in: stillHeld.map((r) => r.id) } }, select: { reservationId: true } });
  const unsettledAnswers = stillHeld.length - parked.length;
  const pendingSettlements = await db.pendingSettlement.count({ where: { messageId: { in: input.messageIds } } });
  const subscribersWithoutEnd = input.outcomes.filter((o) => o.ending.kind === 'error' && o.ending.code === 'NO_DONE_BEFORE_DEADLINE').length;
  const subscribersWithGaps = input.outcomes.filter((o) => o.seqs.some((seq, i) => seq !== i + 1)).length;
  const window = input.exemptWindow;
  const serverErrors = platform.requests.filter(
    (r) => (r.status >= 500 || r.codes.includes('INTERNAL_SERVER_ERROR')) && !(window && r.end >= window.from && r.at <= window.to),
  ).length;
  const metrics = await fetch(new URL('/metrics', platform.processes.conversation.url)).then((r) => r.text());
  const iteratorLine = metrics.split('\n').find((line) => line.startsWith('conversation_active_stream_iterators'));
  const leakedIterators = Number(iteratorLine?.split(' ').at(-1) ?? 0);
  const unhandledErrors = Object.values(platform.processes).reduce(
    (count, process) =>
      count + process.logs.filter((line) => line.msg === 'unhandled rejection').length + (process.stderr.join('').match(/Unhandled error event/g)?.length ?? 0),
    0,
  );
  return {
    creditsNotConserved,
    holdsNotMatchingReserved,
    negativeBalances,
    holdsPastTtl,
    messagesStillStreaming,
    unsettledAnswers,
    pendingSettlements,
    subscribersWithoutEnd,
    subscribersWithGaps,
    serverErrors,
    leakedIterators,
    unhandledErrors,
  };
}

export const ZERO_REPORT: ChaosReport = {
  creditsNotConserved: 0,
  holdsNotMatchingReserved: 0,
  negativeBalances: 0,
  holdsPastTtl: 0,
  messagesStillStreaming: 0,
  unsettledAnswers: 0,
  pendingSettlements: 0,
  subscribersWithoutEnd: 0,
  subscribersWithGaps: 0,
  serverErrors: 0,
  leakedIterators: 0,
  unhandledErrors: 0,
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
