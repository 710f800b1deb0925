import type { ImageJobResolvers } from '../generated/resolvers-types.ts';

export const ImageJob: ImageJobResolvers = {
  __resolveReference: (reference, ctx) => ctx.loaders.job.load(reference.id),
  owner: (job) => ({ __typename: 'User', id: job.userId }),
  images: (job, _, ctx) => ctx.loaders.imagesOfJob.load(job.id),
};
