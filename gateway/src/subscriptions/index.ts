export { createSubscriptionServer } from './subscription-server.ts';
export { createRedisRevocationFeed, type RevocationFeed } from './revocations.ts';
export { rejectHttpSubscriptionsPlugin } from './http-guard.ts';
