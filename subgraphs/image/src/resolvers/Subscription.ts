import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';
import type { SubscriptionResolvers } from '../generated/resolvers-types.ts';

export const Subscription: SubscriptionResolvers = {
  imageJobUpdated: { subscribe: imageGenerationUnavailable },
};
