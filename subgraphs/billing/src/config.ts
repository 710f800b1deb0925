import { commonShape, databaseShape, parseConfig, port, positiveInt, refuseDevelopmentDefaults, z } from '@firefly/config';

const nonNegativeInt = (fallback: number) =>
  z.coerce.number({ error: 'expected a whole number' }).int().min(0, { error: 'expected 0 or more' }).default(fallback);

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  BILLING_SUBGRAPH_PORT: port(4004),
  /** Credits booked once (ledger reason GRANT) when an account is created. 0 disables the grant. */
  SIGNUP_GRANT_CREDITS: nonNegativeInt(100),
  /** Longest hold a caller may ask for; bounds how long credits can be stuck if a caller dies. */
  RESERVATION_MAX_TTL_SECONDS: positiveInt(86_400),
  /** How often the sweeper releases HELD reservations past their expiry. */
  RESERVATION_SWEEP_INTERVAL_SECONDS: positiveInt(30),
  /** Most expired reservations released per sweep round (rounds repeat until none are left). */
  RESERVATION_SWEEP_BATCH_SIZE: positiveInt(100),
});

export type BillingConfig = ReturnType<typeof loadBillingConfig>;

export function loadBillingConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config);
  return config;
}
