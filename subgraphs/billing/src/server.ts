import { readFileSync } from 'node:fs';
import type { BillingDb } from '@firefly/db';
import type { Logger } from '@firefly/logger';
import { createSubgraphServer, type ReadinessCheck, type SubgraphServer } from '@firefly/server-kit';
import { createBillingContext } from './context.ts';
import { createCreditStore, type CreditStoreOptions } from './data/credit-store.ts';
import type { BillingSql } from './data/raw-sql.ts';
import { DEFAULT_CREDIT_SETTINGS } from './domain/credit-deps.ts';
import { resolvers } from './resolvers/index.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

export type { BillingSql, CreditStoreOptions };

export interface BuildBillingSubgraphOptions {
  /** The process's Prisma client (`createDb()`): billing's model delegates plus `$queryRaw` for per-user pages. */
  db: BillingDb & BillingSql;
  /** Secret that verifies gateway and service credentials. */
  internalTokenSecret: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  /** Add the original message of masked errors to responses. Development only. Default false. */
  exposeErrorDetails?: boolean;
  /** Called on stop after the HTTP server closed (disconnect the database, stop the sweeper). */
  onStop?: () => Promise<void>;
  /** Credits of the sign-up grant (ledger reason GRANT); 0 disables it. Default 100. */
  signupGrantCredits?: number;
  /** Longest `ttlSeconds` a reservation may ask for. Default 86,400. */
  maxReservationTtlSeconds?: number;
  /** Transaction tuning of the credit store (defaults: 10 s wait, 10 s run, 3 tries). */
  creditStore?: CreditStoreOptions;
}

/**
 * Builds the billing subgraph without listening (tests drive it; src/main.ts runs it and the expiry sweeper).
 * Serves products, orders, User.creditBalance / ledger / orders, the ADMIN `adjustCredits`, and the internal
 * credit API (`reserveCredits`, `settleReservation`, `releaseReservation`, `grantSignupCredits`, `chatCost`,
 * `imageCost`) that only a service credential may call.
 */
export function buildBillingSubgraph(options: BuildBillingSubgraphOptions): Promise<SubgraphServer> {
  const deps = {
    db: options.db,
    store: createCreditStore(options.db, options.creditStore),
    settings: {
      signupGrantCredits: options.signupGrantCredits ?? DEFAULT_CREDIT_SETTINGS.signupGrantCredits,
      maxReservationTtlSeconds: options.maxReservationTtlSeconds ?? DEFAULT_CREDIT_SETTINGS.maxReservationTtlSeconds,
    },
  };
  return createSubgraphServer({
    name: 'billing',
    typeDefs,
    resolvers: resolvers as never,
    internalTokenSecret: options.internalTokenSecret,
    logger: options.logger,
    createContext: (base) => createBillingContext(deps, base),
    readiness: options.readiness,
    exposeErrorDetails: options.exposeErrorDetails,
    onStop: options.onStop,
  });
}
