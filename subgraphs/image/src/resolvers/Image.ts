import { loadRequired } from '@firefly/server-kit';
import type { ImageResolvers } from '../generated/resolvers-types.ts';

export const Image: ImageResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.image.load(reference.id),
  job: (image, _, ctx) => loadRequired(ctx.loaders.job, image.jobId, 'image job'),
  url: (image, _, ctx) => ctx.services.storage.publicUrl(image.storageKey),
};
