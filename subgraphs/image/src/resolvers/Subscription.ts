import { imageGenerationUnavailable } from '../domain/image-generation-unavailable.ts';

export const Subscription = {
  imageJobUpdated: { subscribe: imageGenerationUnavailable },
};
