export { createSubscriptionServer, type SubscriptionServer, type SubscriptionServerOptions } from './subscription-server.ts';
export { createRedisRevocationFeed, type RevocationFeed } from './revocations.ts';
export { rejectHttpSubscriptionsPlugin } from './http-guard.ts';
export type { EndReason } from './end-reason.ts';
