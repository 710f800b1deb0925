export { BillingCallError, createCreditsClient } from './client.ts';
export { reservationIdFor } from './reservation-id.ts';
export type { CreditsClientOptions } from './client.ts';
export type * from './types.ts';
