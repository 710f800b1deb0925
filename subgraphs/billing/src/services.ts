import type { BillingConfig } from './config.ts';
import { createCreditStore } from './data/credit-store.ts';
import { createPriceSource } from './data/prices.ts';
import type { CreditStore, PriceSource } from './domain/ports.ts';
import type { CreditSettings } from './domain/scope.ts';
import type { BillingDeps } from './server.ts';

/** Billing's process-wide services, built once per server and shared by every request and job. */
export interface BillingServices {
  store: CreditStore;
  prices: PriceSource;
  settings: CreditSettings;
}

export function createBillingServices(config: BillingConfig, deps: BillingDeps): BillingServices {
  return {
    store: createCreditStore(deps.db),
    prices: createPriceSource(deps.db),
    settings: { signupGrantCredits: config.SIGNUP_GRANT_CREDITS, maxReservationTtlSeconds: config.RESERVATION_MAX_TTL_SECONDS },
  };
}
