import type { Logger } from '@firefly/logger';
import type { CreditStore } from './ports.ts';

/** Settings of the credit use cases. */
export interface CreditSettings {
  /** Credits of the sign-up grant; 0 disables it. Default 100 (SIGNUP_GRANT_CREDITS). */
  signupGrantCredits: number;
  /** Longest `ttlSeconds` a reservation may ask for. Default 86,400 (RESERVATION_MAX_TTL_SECONDS). */
  maxReservationTtlSeconds: number;
}

export const DEFAULT_CREDIT_SETTINGS: Readonly<CreditSettings> = Object.freeze({
  signupGrantCredits: 100,
  maxReservationTtlSeconds: 86_400,
});

/** What a credit use case needs: the storage port, its settings, and the request's logger. */
export interface BillingScope {
  store: CreditStore;
  settings: CreditSettings;
  logger: Logger;
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
}
