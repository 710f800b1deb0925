import { randomBytes, randomUUID } from 'node:crypto';
import { createCredentialSigner, type Identity, type Role } from '@firefly/auth';
import { createDb, type Db, type QueryEvent } from '@firefly/db';
import { inject } from 'vitest';
import { createLogger, type Logger } from '@firefly/logger';
import { closeRedis, createRedis } from '@firefly/redis';
import { createCreditStore, type CreditStoreOptions } from '../data/credit-store.ts';
import { DEFAULT_CREDIT_SETTINGS, type BillingScope, type CreditSettings } from '../domain/scope.ts';
import { buildBillingSubgraph, loadBillingConfig } from '../server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by tests/src/global-setup.ts: this run's migrated and seeded database. */
    databaseUrl: string;
    redisUrl: string;
    redisKeyPrefix: string;
  }
}

export const silentLogger: Logger = createLogger({ service: 'billing-test', level: 'silent' });

/** A client of this run's database (vitest globalSetup: migrated and seeded). */
export function openTestDb(options: { connectionLimit?: number; acquireTimeoutMs?: number; onQuery?: (event: QueryEvent) => void } = {}): Db {
  const url = inject('databaseUrl');
  if (!url) throw new Error('no databaseUrl: run through vitest (tests/src/global-setup.ts creates the database)');
  return createDb({
    url,
    connectionLimit: options.connectionLimit ?? 10,
    onQuery: options.onQuery,
    ...(options.acquireTimeoutMs === undefined ? {} : { acquireTimeoutMs: options.acquireTimeoutMs }),
  });
}

/** Unique per test, so tests sharing the database never see each other's rows. */
export const newTenantId = () => `t-${randomUUID()}`;
export const newUserId = () => `u-${randomUUID()}`;

export function billingScope(db: Db, settings: Partial<CreditSettings> = {}, storeOptions: CreditStoreOptions = {}): BillingScope {
  return { store: createCreditStore(db, storeOptions), settings: { ...DEFAULT_CREDIT_SETTINGS, ...settings }, logger: silentLogger };
}

/**
 * The ledger invariant of one account (see data/credit-store.ts): sum(delta) = available + reserved; reserved =
 * sum of HELD reservations; both ≥ 0; and, in booking order, each balanceAfter is the running sum of deltas.
 */
export async function expectLedgerInvariant(db: Db, tenantId: string, userId: string): Promise<{ available: number; reserved: number; entries: number }> {
  const account = await db.creditAccount.findUnique({ where: { tenantId_userId: { tenantId, userId } } });
  if (!account) throw new Error(`no account for ${userId}`);
  const entries = await db.ledgerEntry.findMany({ where: { accountId: account.id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const held = await db.reservation.aggregate({ where: { accountId: account.id, status: 'HELD' }, _sum: { amount: true } });
  const problems: string[] = [];
  const sum = entries.reduce((total, entry) => total + entry.delta, 0);
  if (sum !== account.available + account.reserved) problems.push(`sum(delta)=${sum} but available+reserved=${account.available + account.reserved}`);
  if (account.reserved !== (held._sum.amount ?? 0)) problems.push(`reserved=${account.reserved} but HELD reservations sum to ${held._sum.amount ?? 0}`);
  if (account.available < 0 || account.reserved < 0) problems.push(`negative balance ${account.available}/${account.reserved}`);
  let running = 0;
  for (const entry of entries) {
    running += entry.delta;
    if (entry.balanceAfter !== running) problems.push(`entry ${entry.id} balanceAfter=${entry.balanceAfter}, running sum ${running}`);
  }
  if (problems.length > 0) throw new Error(`ledger invariant broken for ${userId}:\n${problems.join('\n')}`);
  return { available: account.available, reserved: account.reserved, entries: entries.length };
}

export interface TestBilling {
  url: string;
  secret: string;
  db: Db;
  queries: QueryEvent[];
  /** POSTs to the billing subgraph as `identity` (signed like the gateway / a service would), or with no credential. */
  request(query: string, variables?: Record<string, unknown>, identity?: Identity | null, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** The billing subgraph on a free port, against this run's database, exactly as main.ts builds it. */
export async function startTestBilling(options: { signupGrantCredits?: number; env?: Record<string, string>; port?: number } = {}): Promise<TestBilling> {
  const secret = randomBytes(32).toString('hex');
  const queries: QueryEvent[] = [];
  const db = openTestDb({ onQuery: (event) => queries.push(event) });
  const config = loadBillingConfig({
    NODE_ENV: 'test',
    INTERNAL_TOKEN_SECRET: secret,
    ...(options.signupGrantCredits === undefined ? {} : { SIGNUP_GRANT_CREDITS: String(options.signupGrantCredits) }),
    ...options.env,
  });
  const redis = createRedis({ url: inject('redisUrl'), keyPrefix: inject('redisKeyPrefix'), name: 'billing-test' });
  const server = await buildBillingSubgraph(config, { db, redis, logger: silentLogger });
  const url = await server.listen(options.port ?? 0);
  const sign = createCredentialSigner({ secret, issuer: 'gateway' });
  return {
    url,
    secret,
    db,
    queries,
    async request(query, variables = {}, identity = null, headers = {}) {
      const credential: Record<string, string> = identity ? { 'x-firefly-credential': await sign(identity) } : {};
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...credential, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: await response.json() };
    },
    async stop() {
      await server.stop();
      await db.$disconnect();
      await closeRedis(redis);
    },
  };
}

export function userIdentity(tenantId: string, userId: string, roles: Role[] = ['USER']): Identity {
  return { kind: 'user', tenantId, userId, roles, sessionId: randomUUID(), requestId: randomUUID() };
}

export function serviceIdentity(tenantId: string, service = 'conversation'): Identity {
  return { kind: 'service', tenantId, service, requestId: randomUUID() };
}
