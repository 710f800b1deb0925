import { certainlyWithoutImages } from '../domain/watch-image-job.ts';
import type { ImageJobResolvers } from '../generated/resolvers-types.ts';

export const ImageJob: ImageJobResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.job.load(reference.id),
  owner: (job) => ({ __typename: 'User', id: job.userId }),
  // No read when the job certainly has none (QUEUED, or a subscription event's progress step that says so).
  images: (job, _, ctx) => (certainlyWithoutImages(job) ? [] : ctx.loaders.imagesOfJob.load(job.id)),
};
